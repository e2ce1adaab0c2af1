/*
 * irq-latency: the C baseline for real device interrupts in a rig guest. Does what
 * tests/Vfio.Guest.Checks (ServiceInterrupts) does through Vfio.Platform, with the same
 * timing points: power and clock the SDHCI, enable command-complete, then N times write
 * CMD0, poll + read the eventfd, read and clear the status, unmask (AUTOMASKED).
 * Latency = from just before the command write to just after the eventfd read.
 *
 * With "cmd": the C baseline of one command through the SD driver (sdhci-probe irq --through-driver).
 * send_command below does what SdhciHost<TBus>.SendCommand(0, 0, SdResponseType.None) does, register
 * access for register access, clock read for clock read (src/Sdhci.Probe/Sdhci/SdhciHost.cs Send,
 * WaitForLinesFree, ReadResponse; SdhciHost.Interrupts.cs WaitFor, Service, ClearStatus;
 * SdhciHost.Errors.cs ThrowOnError): the interrupts enabled as its Initialize enables them (0x34/0x38
 * 32 bits), then per command: Present State until Command Inhibit (CMD) is clear, Argument, Transfer
 * Mode, Command, then until Command Complete is latched: poll + read the eventfd, read the 32-bit
 * status, write back what is set (all but Card Interrupt and Error Interrupt), unmask (AUTOMASKED).
 * Latency = the whole send_command call. A command with no interrupt within 1 s counts as lost.
 *
 * Usage: irq-latency GROUP DEVICE N [cmd]     (GROUP as printed by rig-bind-vfio)
 * Prints key=value lines: irq.serviced, irq.lost, irq.p50_us, irq.p99_us, irq.p999_us, irq.max_us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef VFIO_NOIOMMU_IOMMU
#define VFIO_NOIOMMU_IOMMU 8
#endif

static void die(const char *what) { perror(what); exit(1); }
static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

static int set_irqs(int fd, uint32_t flags, int32_t efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *s = (void *)buf;
	s->argsz = sizeof buf; s->flags = flags; s->index = 0; s->start = 0; s->count = 1;
	memcpy(s->data, &efd, sizeof efd);
	if (!(flags & VFIO_IRQ_SET_DATA_EVENTFD))
		s->argsz = sizeof(struct vfio_irq_set);
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, s);
}

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }

/* SDHCI Normal and Error Interrupt Status bits as one 32-bit register (0x30), as the driver services them. */
#define COMMAND_COMPLETE 0x00000001u
#define CARD_REMOVAL     0x00000080u
#define NOT_CLEARABLE    0x00008100u  /* Card Interrupt, Error Interrupt: not cleared through 0x30 */
#define ALL_ERRORS       0xFFFF0000u
/* SdhciHost.HandledInterrupts: command and transfer complete, DMA, buffer ready, card removal, command and data errors. */
#define HANDLED          0x03FF00BBu
#define COMMAND_TIMEOUT_NS 1000000000LL  /* SdhciHostOptions.CommandTimeout */

struct host { volatile uint8_t *r; int fd, efd, automasked; uint32_t latched; };
#define H8(o) (*(volatile uint8_t *)(h->r + (o)))
#define H16(o) (*(volatile uint16_t *)(h->r + (o)))
#define H32(o) (*(volatile uint32_t *)(h->r + (o)))

/* Service: read the status, clear what is set, and only then re-arm the interrupt. */
static int service(struct host *h, int fired)
{
	uint32_t status = H32(0x30);
	if (status == 0xFFFFFFFFu) {
		if (fired && h->automasked) set_irqs(h->fd, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, -1);
		return -ENODEV;
	}
	uint32_t clear = status & ~NOT_CLEARABLE;
	if (clear)
		H32(0x30) = clear;
	if (fired && h->automasked)
		set_irqs(h->fd, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, -1);
	h->latched |= clear;
	return 0;
}

/* One command without data and without response (CMD0): 0, or -errno (-ETIMEDOUT: no Command Complete). */
static int __attribute__((noinline)) send_command(struct host *h, int index, uint32_t argument)
{
	if (index < 0 || index > 63)
		return -EINVAL;
	/* WaitForLinesFree: Present State (0x24) Command Inhibit (CMD), bit 0; no DAT line without data or busy. */
	int64_t start = now_ns();
	while (H32(0x24) & 1) {
		if (now_ns() - start > COMMAND_TIMEOUT_NS) {
			if (!(H32(0x24) & 1))
				break;
			return -EBUSY;
		}
	}
	h->latched = 0;
	H32(0x08) = argument;
	H16(0x0C) = 0;                                  /* Transfer Mode: no data */
	H16(0x0E) = (uint16_t)(index << 8);             /* Command: index, no response, no CRC or index check */
	/* WaitFor(Command Complete) */
	start = now_ns();
	for (;;) {
		if (h->latched & (ALL_ERRORS | CARD_REMOVAL))
			return -EIO;
		if (h->latched & COMMAND_COMPLETE) {
			h->latched &= ~COMMAND_COMPLETE;
			break;
		}
		int64_t remaining = COMMAND_TIMEOUT_NS - (now_ns() - start);
		if (remaining <= 0) {
			/* A lost interrupt costs time, not the command: look at the status once more. */
			if (service(h, 0))
				return -ENODEV;
			if (h->latched & (ALL_ERRORS | CARD_REMOVAL))
				return -EIO;
			if (h->latched & COMMAND_COMPLETE) {
				h->latched &= ~COMMAND_COMPLETE;
				break;
			}
			return -ETIMEDOUT;
		}
		struct pollfd pfd = { .fd = h->efd, .events = POLLIN };
		int ready = poll(&pfd, 1, (int)((remaining + 999999) / 1000000));
		if (ready < 0 && errno != EINTR)
			return -errno;
		uint64_t count = 0;
		if (ready == 1 && read(h->efd, &count, 8) == 8 && count && service(h, 1))
			return -ENODEV;
	}
	/* ReadResponse(None): no register is read. */
	return 0;
}

int main(int argc, char **argv)
{
	int cmd = argc == 5 && !strcmp(argv[4], "cmd");
	if (argc != 4 && !cmd) { fprintf(stderr, "usage: %s GROUP DEVICE N [cmd]\n", argv[0]); return 2; }
	int n = atoi(argv[3]);
	unsigned long type = strstr(argv[1], "noiommu-") ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;
	int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	int group = open(argv[1], O_RDWR | O_CLOEXEC);
	if (container < 0 || group < 0) die("open");
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) || ioctl(container, VFIO_SET_IOMMU, type)) die("attach");
	int fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
	if (fd < 0) die("VFIO_GROUP_GET_DEVICE_FD");
	struct vfio_region_info ri = { .argsz = sizeof ri, .index = 0 };
	struct vfio_irq_info ii = { .argsz = sizeof ii, .index = 0 };
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri) || ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &ii)) die("info");
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (ri.size + page - 1) & ~(page - 1), PROT_READ | PROT_WRITE, MAP_SHARED, fd, ri.offset);
	if (p == MAP_FAILED) die("mmap");
	volatile uint8_t *r = p;
#define R8(o) (*(volatile uint8_t *)(r + (o)))
#define R16(o) (*(volatile uint16_t *)(r + (o)))
#define R32(o) (*(volatile uint32_t *)(r + (o)))
	double t0 = now_us();
	R8(0x2F) = 1;                                   /* software reset for all */
	while ((R8(0x2F) & 1) && now_us() - t0 < 1e6) ;
	R8(0x29) = 0x0F;                                /* 3.3 V, bus power */
	R16(0x2C) = 0x8001;                             /* internal clock, identification divider */
	while (!(R16(0x2C) & 2) && now_us() - t0 < 2e6) ;
	R16(0x2C) = R16(0x2C) | 4;                      /* SD clock on */
	if (cmd) {
		R32(0x34) = HANDLED; R32(0x38) = HANDLED; R32(0x30) = ~NOT_CLEARABLE;   /* as SdhciHost.EnableInterrupts */
	} else {
		R16(0x34) = 1; R16(0x38) = 1; R16(0x30) = 0xFFFF;
	}

	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0 || set_irqs(fd, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, efd)) die("SET_IRQS");
	int automasked = (ii.flags & VFIO_IRQ_INFO_AUTOMASKED) != 0;
	double *lat = calloc(n, sizeof *lat);
	int serviced = 0, lost = 0;
	struct host h = { .r = r, .fd = fd, .efd = efd, .automasked = automasked };
	for (int i = 0; cmd && i < n; i++) {
		int64_t t = now_ns();
		int e = send_command(&h, 0, 0);
		int64_t done = now_ns();
		if (e == -ETIMEDOUT) { lost++; continue; }
		if (e) { fprintf(stderr, "irq-latency: CMD0: %s\n", strerror(-e)); return 1; }
		lat[serviced++] = (done - t) / 1e3;
	}
	for (int i = 0; !cmd && i < n; i++) {
		R32(0x08) = 0;
		double sent = now_us();
		R16(0x0E) = 0;                          /* CMD0, no response */
		struct pollfd pfd = { .fd = efd, .events = POLLIN };
		uint64_t count = 0;
		if (poll(&pfd, 1, 2000) != 1 || read(efd, &count, 8) != 8) { lost++; continue; }
		double woke = now_us();
		uint16_t status = R16(0x30);
		R16(0x30) = status;                     /* clear the cause first ... */
		if (automasked)
			set_irqs(fd, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, -1); /* ... then unmask */
		if (status & 1)
			lat[serviced++] = woke - sent;
	}
	qsort(lat, serviced, sizeof *lat, cmp);
	printf("irq.serviced=%d\nirq.lost=%d\n", serviced, lost);
	if (serviced) {
		printf("irq.p50_us=%.1f\nirq.p99_us=%.1f\nirq.p999_us=%.1f\nirq.max_us=%.1f\n",
		       lat[serviced / 2], lat[(int)(serviced * 0.99)], lat[(int)(serviced * 0.999)], lat[serviced - 1]);
	}
	return lost ? 5 : 0;
}
