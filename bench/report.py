#!/usr/bin/env python3
"""Reads what bench/run collected in OUT and prints the comparison tables (also written to
OUT/summary.md), and the CDF data for the latency plot (OUT/cdf-*.dat). Standard library only.

usage: report.py OUT
"""
import glob
import json
import os
import re
import sys

out = sys.argv[1]
WIDTHS = ["read8", "read16", "read32", "read64", "write8", "write16", "write32", "write64"]
lines_out = []


def emit(s=""):
    print(s)
    lines_out.append(s)


def read_kv(path):
    """'name key value' lines -> {(name, key): float}"""
    d = {}
    if not os.path.exists(path):
        return d
    for line in open(path):
        parts = line.split()
        if len(parts) == 3:
            try:
                d[(parts[0], parts[1])] = float(parts[2])
            except ValueError:
                pass
    return d


def table(header, rows, align=None):
    cols = len(header)
    w = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            w[i] = max(w[i], len(c))
    align = align or (["<"] + [">"] * (cols - 1))
    fmt = lambda r: "| " + " | ".join(f"{c:{a}{wi}}" for c, a, wi in zip(r, align, w)) + " |"
    emit(fmt(header))
    emit("|" + "|".join(("-" * (wi + 1) + ":") if a == ">" else ("-" * (wi + 2)) for a, wi in zip(align, w)) + "|")
    for r in rows:
        emit(fmt(r))


def f(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def verdict(r, limit):
    if r is None:
        return "n/a"
    return "ok" if r <= limit else f"MISS (> {limit:.2f})"


# ---- BenchmarkDotNet -------------------------------------------------------------------------
cs = {}      # name -> (median ns, bytes/op)
for path in glob.glob(os.path.join(out, "bdn", "results", "*-report-full-compressed.json")):
    for b in json.load(open(path))["Benchmarks"]:
        t, m = b["Type"], b["Method"]
        med = b["Statistics"]["Median"] if b.get("Statistics") else None
        mn = b["Statistics"]["Min"] if b.get("Statistics") else None
        alloc = (b.get("Memory") or {}).get("BytesAllocatedPerOperation")
        if t == "MmioBenchmarks":
            kind = next((k.lower() for k in ("Raw", "Span", "View") if m.startswith(k)), "lib")
            base = m.replace("Raw", "").replace("Span", "").replace("View", "").lower()
            cs[(f"mmio.{base}", kind)] = (med, alloc, mn)
        elif t == "RegisterBlockBenchmarks":
            cs[(f"named.{m.lower()}", "lib")] = (med, alloc, mn)
        elif t == "InterruptBenchmarks":
            name = {"SignalWaitSameThread": "irq.signal_wait_same_thread", "PingPong": "irq.pingpong",
                    "PingPongWaitAsync": "irq.pingpong_waitasync"}[m]
            cs[(name, "lib")] = (med, alloc, mn)

# The C loops ran before and after BenchmarkDotNet: take the mean of the two runs' figures.
c_runs = [read_kv(os.path.join(out, n)) for n in ("c-bench.txt", "c-bench-after.txt")]
c_runs = [r for r in c_runs if r]
c = {k: sum(r[k] for r in c_runs if k in r) / sum(1 for r in c_runs if k in r) for r in c_runs for k in r}

emit("## Time per operation, C# vs C, same machine, same run")
emit()
rows = []
for kind, label in [("lib", ""), ("raw", " [C# raw pointer, no checks]"), ("span", " [MmioRegion.Span<T>]"),
                    ("view", " [MmioView]")]:
    for wd in WIDTHS:
        name = f"mmio.{wd}"
        med, alloc, mn = cs.get((name, kind), (None, None, None))
        cn, cmin = c.get((name, "ns_per_op")), c.get((name, "ns_per_op_min"))
        r = ratio(mn, cmin)
        rows.append([name + label, f(med), f(cn), f(ratio(med, cn), 2), f(r, 2), "n/a" if alloc is None else str(alloc),
                     verdict(r, 1.05) if kind in ("lib", "span") else ""])
    if kind == "lib":
        for name, cname in [("irq.signal_wait_same_thread", "irq.signal_wait_same_thread"),
                            ("irq.pingpong", "irq.pingpong"), ("irq.pingpong_waitasync", "irq.pingpong")]:
            med, alloc, mn = cs.get((name, "lib"), (None, None, None))
            cn, cmin = c.get((cname, "ns_per_op")), c.get((cname, "ns_per_op_min"))
            r = ratio(mn, cmin)
            rows.append([name, f(med, 0), f(cn, 0), f(ratio(med, cn), 2), f(r, 2), "n/a" if alloc is None else str(alloc),
                         verdict(r, 1.10)])
table(["benchmark", "C# ns/op", "C ns/op", "C#/C median", "C#/C min", "C# alloc B/op", "target (min)"], rows)
emit()
emit("ns/op: medians (BenchmarkDotNet's median iteration; C's median round, mean of its runs before and after")
emit("BenchmarkDotNet). 'min' divides C#'s fastest iteration by C's fastest round: this shared machine's speed drifts")
emit("by up to ~1.7x over minutes (the same C loops, before and after), which moves medians but hardly minima, so")
emit("the target is judged on 'min'.")
emit("mmio.*: per access, loops of 1024 consecutive accesses. irq.pingpong*: per wake-up (round trip / 2);")
emit("irq.pingpong_waitasync is compared with C's blocking ping-pong. Targets: MMIO <= 1.05x, interrupt <= 1.10x, 0 B.")
emit()

# ---- Latency -----------------------------------------------------------------------------------
cl = read_kv(os.path.join(out, "c-latency.txt"))
sl = read_kv(os.path.join(out, "cs-latency.txt"))
emit("## Interrupt wake-up latency (eventfd signal on one thread -> waiter running on another), ns")
emit()
rows = []
for mode in ["blocking", "async"]:
    row = [f"C# {mode} vs C blocking"]
    for q in ["p50", "p99", "p99.9", "max"]:
        a, b = sl.get((f"lat.{mode}", f"{q}_ns")), cl.get(("lat.blocking", f"{q}_ns"))
        r = ratio(a, b)
        row += [f(a, 0), f(b, 0), f(r, 2) + ("" if q not in ("p50", "p99") or r is None else (" ok" if r <= 1.10 else " MISS"))]
    alloc = sl.get((f"lat.{mode}", "alloc_bytes_per_wakeup"))
    row += [f(alloc, 2)]
    rows.append(row)
hdr = ["", "C# p50", "C p50", "ratio", "C# p99", "C p99", "ratio", "C# p99.9", "C p99.9", "ratio", "C# max", "C max", "ratio", "C# B/wake-up"]
table(hdr, rows)
n = sl.get(("lat.blocking", "samples"))
emit()
emit(f"{int(n) if n else 'n/a'} samples per distribution after a warm-up; nearest-rank percentiles; target p50 and p99 <= 1.10x.")
emit()

# ---- Instructions per access ------------------------------------------------------------------
def callgrind_counts(d):
    """{(prefix.name): per-access instructions} from marker dumps of thread 1."""
    res, raw, reps = {}, {}, None
    stdout = os.path.join(d, "stdout.txt")
    for line in open(stdout) if os.path.exists(stdout) else []:
        if line.startswith("callgrind.reps"):
            reps = int(line.split()[1])
    for path in glob.glob(os.path.join(d, "cg.*.*-01")):
        label = summary = None
        for line in open(path):
            if line.startswith("desc: Trigger: Client Request: "):
                label = line.split(": ", 2)[2].strip().split()[-1]
            elif line.startswith("summary:") or line.startswith("totals:"):
                summary = int(line.split()[1])
                break
        if label and summary is not None:
            raw[label] = summary
    for label, v in raw.items():
        if label.endswith(".x1"):
            stem = label[:-3]
            if stem + ".x2" in raw and reps:
                res[stem] = (raw[stem + ".x2"] - v) / (reps * 1024)
    return res


def loop_body(block_lines, label_re, jump_re, is_insn):
    """Instructions from the loop head label to the loop's conditional back-edge: the narrowest loop of the
    method, which is the measured one (the Span* methods also hold the inlined search of a sparse region's
    areas, a wider loop that never runs for the benchmark's region)."""
    labels, best = {}, None
    insn_index = []
    for i, line in enumerate(block_lines):
        m = label_re.match(line)
        if m:
            labels[m.group(1)] = i
            continue
        j = jump_re.match(line)
        if j and j.group(2) in labels and j.group(1) not in ("jmp",):
            start = labels[j.group(2)]
            count = sum(1 for k in range(start, i + 1) if is_insn(block_lines[k]))
            if best is None or i - start < best[1]:
                best = (count, i - start)
    return best[0] if best else None


def jit_static(path):
    res = {}
    if not path:
        return res
    text = open(path).read()
    for block in re.findall(r"```assembly\n(.*?)```", text, re.S):
        bl = block.splitlines()
        m = re.match(r"; Vfio\.Benchmarks\.MmioLoops\.(\w+)\(", bl[0]) if bl else None
        if not m:
            continue
        name = m.group(1)
        kind = next((k.lower() for k in ("Raw", "Span", "View") if name.startswith(k)), "lib")
        base = name.replace("Raw", "").replace("Span", "").replace("View", "").lower()
        res[(base, kind)] = loop_body(bl, re.compile(r"^(M\d+_L\d+):"),
                                      re.compile(r"^\s+(j\w+)\s+(?:short\s+)?(M\d+_L\d+)"),
                                      lambda s: bool(re.match(r"^\s+[a-z]", s)))
    return res


def jit_named(paths):
    """Loop bodies of NamedLoops.* from every DisassemblyDiagnoser export."""
    res = {}
    for path in paths:
        text = open(path).read()
        for block in re.findall(r"```assembly\n(.*?)```", text, re.S):
            bl = block.splitlines()
            m = re.match(r"; Vfio\.Benchmarks\.NamedLoops\.(\w+)\(", bl[0]) if bl else None
            if m:
                res[m.group(1).lower()] = loop_body(bl, re.compile(r"^(M\d+_L\d+):"),
                                                    re.compile(r"^\s+(j\w+)\s+(?:short\s+)?(M\d+_L\d+)"),
                                                    lambda s: bool(re.match(r"^\s+[a-z]", s)))
    return res


def gcc_static(path, names=None):
    res = {}
    if not os.path.exists(path):
        return res
    lines = open(path).read().splitlines()
    for wd in names or [f"mmio_{w}" for w in WIDTHS]:
        try:
            start = lines.index(f"{wd}:")
        except ValueError:
            continue
        end = next(i for i in range(start, len(lines)) if lines[i].startswith(f"\t.size\t{wd},"))
        res[wd.removeprefix("mmio_")] = loop_body(lines[start:end], re.compile(r"^(\.L\d+):"),
                            re.compile(r"^\t(j\w+)\t(\.L\d+)"),
                            lambda s: s.startswith("\t") and not s.startswith("\t."))
    return res


cgc = callgrind_counts(os.path.join(out, "callgrind-c"))
cgs = callgrind_counts(os.path.join(out, "callgrind-cs"))
asm = glob.glob(os.path.join(out, "bdn", "results", "*MmioBenchmarks-asm.md")) + glob.glob(os.path.join(out, "bdn", "results", "*-asm.md"))
js = jit_static(asm[0] if asm else None)
gs = gcc_static(os.path.join(out, "baseline.s"))

emit("## Instructions per MMIO access")
emit()
rows = []
for wd in WIDTHS:
    r_lib = ratio(js.get((wd, "lib")), gs.get(wd))
    r_span = ratio(js.get((wd, "span")), gs.get(wd))
    rows.append([f"mmio.{wd}",
                 f(cgc.get(f"c.{wd}"), 2), f(cgs.get(f"cs.{wd}"), 2), f(cgs.get(f"cs.raw_{wd}"), 2),
                 f(cgs.get(f"cs.span_{wd}"), 2), f(cgs.get(f"cs.view_{wd}"), 2),
                 str(gs.get(wd, "n/a")), str(js.get((wd, "lib"), "n/a")), str(js.get((wd, "raw"), "n/a")),
                 str(js.get((wd, "span"), "n/a")), str(js.get((wd, "view"), "n/a")),
                 f(r_lib, 2) + ("" if r_lib is None else (" ok" if r_lib <= 1.0 else " MISS")),
                 f(r_span, 2) + ("" if r_span is None else (" ok" if r_span <= 1.0 else " MISS"))])
table(["access", "cg C", "cg MmioRegion*", "cg raw", "cg span*", "cg view*", "loop C", "loop MmioRegion",
       "loop raw", "loop span", "loop view", "MmioRegion/C", "span/C"], rows)
emit()
emit("cg = measured by callgrind, (Ir(2R) - Ir(R)) / (R x 1024) on the measuring thread. loop = instructions in the")
emit("loop body: C from gcc -O2 -S, C# from BenchmarkDotNet's DisassemblyDiagnoser (the tier-1 code that ran).")
emit("raw = C# volatile loads/stores through a bare pointer; span = MmioRegion.Span<T> (checked once per loop);")
emit("view = MmioView (the region's per-access check, base and bounds in registers).")
emit("* Under valgrind the JIT falls back to MinOpts for every optimized method that contains a call (here the")
emit("  out-of-line slow path), so the starred cg columns count unoptimized code, not what runs natively; the loop")
emit("  columns are the tier-1 code that ran. See README. Target: the same count as C.")

# ---- Named registers (RegisterBlock<TBlock>) -------------------------------------------------------
NAMED = ["read32", "write32", "modify32"]
jn = jit_named(glob.glob(os.path.join(out, "bdn", "results", "*-asm.md")))
gn = gcc_static(os.path.join(out, "baseline.s"), [f"named_{n}" for n in NAMED])
emit()
emit("## Named registers: RegisterBlock<TBlock, MmioBus> vs C with #define'd offsets")
emit()
rows = []
for n in NAMED:
    med, alloc, mn = cs.get((f"named.{n}", "lib"), (None, None, None))
    cn, cmin = c.get((f"mmio.named_{n}", "ns_per_op")), c.get((f"mmio.named_{n}", "ns_per_op_min"))
    r = ratio(mn, cmin)
    li, lc = jn.get(n), gn.get(f"named_{n}")
    rl = ratio(li, lc)
    rows.append([f"named.{n}", f(med), f(cn), f(ratio(med, cn), 2), f(r, 2), verdict(r, 1.05),
                 "n/a" if alloc is None else str(alloc),
                 f(cgs.get(f"cs.named_{n}"), 2), f(cgc.get(f"c.named_{n}"), 2),
                 str(li if li is not None else "n/a"), str(lc if lc is not None else "n/a"),
                 f(rl, 2) + ("" if rl is None else (" ok" if rl <= 1.0 else " MISS"))])
table(["loop", "C# ns/op", "C ns/op", "C#/C median", "C#/C min", "target (min)", "C# alloc B/op",
       "cg C#", "cg C", "loop C#", "loop C", "loop C#/C"], rows)
emit()
emit("Per loop turn: read32 = one load of Status (0x30) added up; write32 = one store of the counter to Control")
emit("(0x3C); modify32 = Control's 3-bit Mode field (bits 18:16) set to SDR50 (a load, and, or, a store).")
emit("C: named_* in baseline.c with #define'd offsets. cg = callgrind per loop turn (these loops contain no call,")
emit("so the JIT optimizes them under valgrind too); loop = instructions in the loop body (gcc -O2 -S;")
emit("DisassemblyDiagnoser). Targets: loop C#/C <= 1.00 and C#/C min <= 1.05.")

with open(os.path.join(out, "summary.md"), "w") as fh:
    fh.write("\n".join(lines_out) + "\n")

# ---- CDF data -------------------------------------------------------------------------------------
for name in ["c-blocking", "cs-blocking", "cs-async"]:
    p = os.path.join(out, "lat", f"{name}.txt")
    if not os.path.exists(p):
        continue
    v = sorted(int(x) for x in open(p) if x.strip())
    n = len(v)
    with open(os.path.join(out, f"cdf-{name}.dat"), "w") as fh:
        # ~4000 points for the body, every sample in the slowest 1% (the tail panel is log scale)
        idx = sorted(set(range(0, n, max(1, n // 4000))) | set(range(int(n * 0.99), n)))
        for i in idx:
            fh.write(f"{v[i] / 1000:.3f} {(i + 1) / n:.7f}\n")
