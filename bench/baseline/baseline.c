/* C baseline for bench/Vfio.Benchmarks: the same MMIO loops through the same kind of mapping
 * (memfd_create + ftruncate + mmap(MAP_SHARED)), and the same eventfd patterns (write to signal,
 * poll + 8-byte read to wait), timed with clock_gettime(CLOCK_MONOTONIC).
 *
 *   baseline bench [--short]                              ns per op, one "name ns_per_op X" line each
 *   baseline latency [--samples N] [--warmup N] [--out DIR]   wake-up latency percentiles
 *   baseline callgrind REPS                               marker dumps for valgrind --tool=callgrind
 *
 * Built by ../run with gcc -O2. Output lines are machine-readable: "<name> <key> <value>". */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#define ACCESSES 1024                 /* per loop, as MmioLoops.Accesses */
#define REGION_BYTES (ACCESSES * 8)   /* as MmioLoops.RegionBytes */
#define ROUND_TRIPS 16                /* per timed call, as InterruptBenchmarks.RoundTrips */

#define NOINLINE __attribute__((noinline))

static void die(const char *what) { perror(what); exit(1); }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

/* ---- MMIO ------------------------------------------------------------------------------------ */

static uint8_t *map_shared(size_t length)
{
    int fd = memfd_create("vfio-bench-c", MFD_CLOEXEC);
    if (fd < 0) die("memfd_create");
    if (ftruncate(fd, (off_t)length) != 0) die("ftruncate");
    void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    return p;
}

/* The loops of MmioLoops.cs: consecutive naturally aligned offsets, volatile accesses. */
NOINLINE uint32_t mmio_read8(uint8_t *p)
{
    uint32_t sum = 0;
    for (long off = 0; off < ACCESSES * 1; off += 1) sum += *(volatile uint8_t *)(p + off);
    return sum;
}
NOINLINE uint32_t mmio_read16(uint8_t *p)
{
    uint32_t sum = 0;
    for (long off = 0; off < ACCESSES * 2; off += 2) sum += *(volatile uint16_t *)(p + off);
    return sum;
}
NOINLINE uint32_t mmio_read32(uint8_t *p)
{
    uint32_t sum = 0;
    for (long off = 0; off < ACCESSES * 4; off += 4) sum += *(volatile uint32_t *)(p + off);
    return sum;
}
NOINLINE uint64_t mmio_read64(uint8_t *p)
{
    uint64_t sum = 0;
    for (long off = 0; off < ACCESSES * 8; off += 8) sum += *(volatile uint64_t *)(p + off);
    return sum;
}
NOINLINE uint64_t mmio_write8(uint8_t *p)
{
    for (long off = 0; off < ACCESSES * 1; off += 1) *(volatile uint8_t *)(p + off) = (uint8_t)off;
    return 0;
}
NOINLINE uint64_t mmio_write16(uint8_t *p)
{
    for (long off = 0; off < ACCESSES * 2; off += 2) *(volatile uint16_t *)(p + off) = (uint16_t)off;
    return 0;
}
NOINLINE uint64_t mmio_write32(uint8_t *p)
{
    for (long off = 0; off < ACCESSES * 4; off += 4) *(volatile uint32_t *)(p + off) = (uint32_t)off;
    return 0;
}
NOINLINE uint64_t mmio_write64(uint8_t *p)
{
    for (long off = 0; off < ACCESSES * 8; off += 8) *(volatile uint64_t *)(p + off) = (uint64_t)off;
    return 0;
}

/* The named-register loops of NamedLoops.cs: a driver's register accesses with #define'd offsets, the
 * base pointer in a parameter (as RegisterBlock<BenchBlock> is in C#). Same numbers as BenchBlock. */
#define STATUS 0x30
#define CONTROL 0x3C
#define MODE_SHIFT 16
#define MODE_MASK (7u << MODE_SHIFT)
#define MODE_SDR50 2u
#define REG32(p, off) (*(volatile uint32_t *)((p) + (off)))

NOINLINE uint32_t named_read32(uint8_t *p)
{
    uint32_t sum = 0;
    for (int i = 0; i < ACCESSES; i++) sum += REG32(p, STATUS);
    return sum;
}
NOINLINE uint64_t named_write32(uint8_t *p)
{
    for (int i = 0; i < ACCESSES; i++) REG32(p, CONTROL) = (uint32_t)i;
    return 0;
}
NOINLINE uint64_t named_modify32(uint8_t *p)
{
    for (int i = 0; i < ACCESSES; i++) REG32(p, CONTROL) = (REG32(p, CONTROL) & ~MODE_MASK) | (MODE_SDR50 << MODE_SHIFT);
    return 0;
}

typedef uint64_t (*loop_fn)(uint8_t *);
static uint64_t r8(uint8_t *p) { return mmio_read8(p); }
static uint64_t r16(uint8_t *p) { return mmio_read16(p); }
static uint64_t r32(uint8_t *p) { return mmio_read32(p); }
static uint64_t nr32(uint8_t *p) { return named_read32(p); }
static const struct { const char *name; loop_fn fn; } loops[] = {
    {"read8", r8}, {"read16", r16}, {"read32", r32}, {"read64", mmio_read64},
    {"write8", mmio_write8}, {"write16", mmio_write16}, {"write32", mmio_write32}, {"write64", mmio_write64},
    {"named_read32", nr32}, {"named_write32", named_write32}, {"named_modify32", named_modify32},
};
#define NLOOPS (sizeof loops / sizeof loops[0])

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- eventfd --------------------------------------------------------------------------------- */

static int efd(void)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) die("eventfd");
    return fd;
}

/* EventFd.Signal */
static void efd_signal(int fd)
{
    uint64_t one = 1;
    if (write(fd, &one, 8) != 8) die("write(eventfd)");
}

/* EventFd.Wait(infinite): poll, retry on EINTR, then read (retry if another reader took it). */
static uint64_t efd_wait(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    for (;;) {
        int ready = poll(&pfd, 1, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("poll(eventfd)");
        }
        uint64_t v;
        ssize_t n = read(fd, &v, 8);
        if (n == 8) return v;
        if (n < 0 && errno == EAGAIN) continue;
        die("read(eventfd)");
    }
}

static int ping_fd, pong_fd;
static volatile int stop_partner;

static void *partner(void *arg)
{
    (void)arg;
    for (;;) {
        efd_wait(ping_fd);
        if (stop_partner) return NULL;
        efd_signal(pong_fd);
    }
}

static int self_fd;
static uint64_t same_thread(uint8_t *unused)
{
    (void)unused;
    efd_signal(self_fd);
    return efd_wait(self_fd);
}

static uint64_t ping_pong(uint8_t *unused)
{
    (void)unused;
    uint64_t n = 0;
    for (int i = 0; i < ROUND_TRIPS; i++) {
        efd_signal(ping_fd);
        n += efd_wait(pong_fd);
    }
    return n;
}

/* The timed cases, run like BenchmarkDotNet runs a benchmark: warm up for 200 ms while sizing a round to
 * ~round_ms, then time `rounds` rounds and report the median (and the minimum) per operation. The rounds
 * of all cases are interleaved (round 1 of every case, then round 2...), so a slow patch of the machine
 * lands on every case alike instead of on one. */
struct bench_case { const char *name; loop_fn fn; uint8_t *arg; int ops; uint64_t per_round; double ns[64]; };

static void run_cases(struct bench_case *cases, int n, int rounds, double round_ms)
{
    for (int c = 0; c < n; c++) {
        uint64_t t0 = now_ns(), calls = 0;
        while (now_ns() - t0 < 200000000ull) { sink += cases[c].fn(cases[c].arg); calls++; }
        cases[c].per_round = (uint64_t)(calls * round_ms / 200.0);
        if (cases[c].per_round < 1) cases[c].per_round = 1;
    }
    for (int r = 0; r < rounds; r++)
        for (int c = 0; c < n; c++) {
            uint64_t s = now_ns();
            for (uint64_t i = 0; i < cases[c].per_round; i++) sink += cases[c].fn(cases[c].arg);
            cases[c].ns[r] = (double)(now_ns() - s) / (double)(cases[c].per_round * (uint64_t)cases[c].ops);
        }
}

static void print_cases(struct bench_case *cases, int n, int rounds, int digits)
{
    for (int c = 0; c < n; c++) {
        double med = median(cases[c].ns, rounds); /* sorts, so ns[0] is then the minimum */
        printf("%s ns_per_op %.*f\n", cases[c].name, digits, med);
        printf("%s ns_per_op_min %.*f\n", cases[c].name, digits, cases[c].ns[0]);
    }
}

static int bench(int quick)
{
    int rounds = quick ? 5 : 21;
    double round_ms = quick ? 100 : 250;
    uint8_t *p = map_shared(REGION_BYTES);
    struct bench_case mmio[NLOOPS];
    static char names[NLOOPS][32];
    for (size_t i = 0; i < NLOOPS; i++) {
        snprintf(names[i], sizeof names[i], "mmio.%s", loops[i].name);
        mmio[i] = (struct bench_case){.name = names[i], .fn = loops[i].fn, .arg = p, .ops = ACCESSES};
    }
    run_cases(mmio, NLOOPS, rounds, round_ms);
    print_cases(mmio, NLOOPS, rounds, 4);
    fflush(stdout);

    self_fd = efd();
    ping_fd = efd();
    pong_fd = efd();
    pthread_t t;
    if (pthread_create(&t, NULL, partner, NULL)) die("pthread_create");
    struct bench_case irq[] = {
        {.name = "irq.signal_wait_same_thread", .fn = same_thread, .ops = 1},
        {.name = "irq.pingpong", .fn = ping_pong, .ops = 2 * ROUND_TRIPS}, /* per wake-up: a round trip is two */
    };
    run_cases(irq, 2, rounds, round_ms);
    print_cases(irq, 2, rounds, 1);
    stop_partner = 1;
    efd_signal(ping_fd);
    pthread_join(t, NULL);
    return 0;
}

/* ---- wake-up latency (as LatencyMode.cs, blocking) -------------------------------------------- */

static int lat_a, lat_b;
static volatile uint64_t sent_ns;
static long lat_total;

static void *signaller(void *arg)
{
    (void)arg;
    for (long i = 0; i < lat_total; i++) {
        efd_wait(lat_b);
        __atomic_store_n(&sent_ns, now_ns(), __ATOMIC_RELEASE);
        efd_signal(lat_a);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank, as LatencyMode.Percentile. */
static uint64_t percentile(const uint64_t *sorted, long n, double q)
{
    long i = (long)ceil(q * (double)n) - 1;
    return sorted[i < 0 ? 0 : i];
}

static int latency(long samples, long warmup, const char *out)
{
    lat_a = efd();
    lat_b = efd();
    lat_total = warmup + samples;
    uint64_t *ns = calloc((size_t)lat_total, sizeof *ns);
    if (!ns) die("calloc");
    pthread_t t;
    if (pthread_create(&t, NULL, signaller, NULL)) die("pthread_create");
    for (long i = 0; i < lat_total; i++) {
        efd_signal(lat_b);
        efd_wait(lat_a);
        ns[i] = now_ns() - __atomic_load_n(&sent_ns, __ATOMIC_ACQUIRE);
    }
    pthread_join(t, NULL);
    uint64_t *s = ns + warmup;
    if (out) {
        char path[4096];
        snprintf(path, sizeof path, "%s/c-blocking.txt", out);
        FILE *f = fopen(path, "w");
        if (!f) die(path);
        for (long i = 0; i < samples; i++) fprintf(f, "%llu\n", (unsigned long long)s[i]);
        fclose(f);
    }
    double sum = 0;
    for (long i = 0; i < samples; i++) sum += (double)s[i];
    qsort(s, (size_t)samples, sizeof *s, cmp_u64);
    printf("lat.blocking samples %ld\n", samples);
    printf("lat.blocking mean_ns %.0f\n", sum / (double)samples);
    printf("lat.blocking p50_ns %llu\n", (unsigned long long)percentile(s, samples, 0.50));
    printf("lat.blocking p99_ns %llu\n", (unsigned long long)percentile(s, samples, 0.99));
    printf("lat.blocking p99.9_ns %llu\n", (unsigned long long)percentile(s, samples, 0.999));
    printf("lat.blocking max_ns %llu\n", (unsigned long long)s[samples - 1]);
    free(ns);
    return 0;
}

/* ---- instruction counts (as CallgrindMode.cs) ------------------------------------------------- */

static int callgrind(long reps)
{
    uint8_t *p = map_shared(REGION_BYTES);
    char label[64];
    for (size_t i = 0; i < NLOOPS; i++) {
        for (int w = 0; w < 10; w++) sink += loops[i].fn(p);
        for (int factor = 1; factor <= 2; factor++) {
            snprintf(label, sizeof label, "c.%s.x%d", loops[i].name, factor);
            CALLGRIND_ZERO_STATS;
            for (long r = 0; r < reps * factor; r++) sink += loops[i].fn(p);
            CALLGRIND_DUMP_STATS_AT(label);
        }
    }
    printf("callgrind.accesses_per_rep %d\ncallgrind.reps %ld\n", ACCESSES, reps);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "bench";
    if (!strcmp(mode, "bench")) return bench(argc > 2 && !strcmp(argv[2], "--short"));
    if (!strcmp(mode, "callgrind")) return callgrind(argc > 2 ? atol(argv[2]) : 1000);
    if (!strcmp(mode, "latency")) {
        long samples = 100000, warmup = 10000;
        const char *out = NULL;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--samples") && i + 1 < argc) samples = atol(argv[++i]);
            else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atol(argv[++i]);
            else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
            else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
        }
        return latency(samples, warmup, out);
    }
    fprintf(stderr, "usage: %s bench [--short] | latency [--samples N] [--warmup N] [--out DIR] | callgrind REPS\n", argv[0]);
    return 2;
}
