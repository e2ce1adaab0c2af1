using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vfio.Platform.Mmio;

namespace Vfio.Benchmarks;

/// <summary>Instructions per MMIO access under <c>valgrind --tool=callgrind</c>. For each loop of
/// <see cref="MmioLoops"/>: warm up until tiering has settled (a whole round compiles no new method), then
/// zero callgrind's counters, run the loop R times (R x 1024 accesses), dump ("cs.read32.x1"); zero, run
/// it 2R times, dump ("cs.read32.x2"). ../run takes (Ir(x2) - Ir(x1)) / (R x 1024) from this thread's
/// dumps, which cancels start-up, the marker calls and the loop entry. The markers are callgrind client
/// requests in a small C library (../baseline/vgmark.c) called through function pointers; outside valgrind
/// they do nothing, so the same mode run natively with DOTNET_JitDisasm prints the tier-1 code that runs.</summary>
public static unsafe class CallgrindMode
{
    /// <summary>One measured loop: its label in the callgrind dumps (cs.NAME.x1/x2) and a call of it.
    /// The harness call (a delegate) costs about 25 instructions per 1024 accesses: 0.02-0.03 per access
    /// in the callgrind figures (measured against the former switch of direct calls, 2026-11-29).</summary>
    private sealed record Loop(string Name, Func<MmioRegion, nint, ulong> Run);

    private static readonly Loop[] Loops =
    [
        new("read8", static (r, p) => MmioLoops.Read8(r)),
        new("read16", static (r, p) => MmioLoops.Read16(r)),
        new("read32", static (r, p) => MmioLoops.Read32(r)),
        new("read64", static (r, p) => MmioLoops.Read64(r)),
        new("write8", static (r, p) => { MmioLoops.Write8(r); return 0; }),
        new("write16", static (r, p) => { MmioLoops.Write16(r); return 0; }),
        new("write32", static (r, p) => { MmioLoops.Write32(r); return 0; }),
        new("write64", static (r, p) => { MmioLoops.Write64(r); return 0; }),
        new("raw_read8", static (r, p) => MmioLoops.RawRead8((byte*)p)),
        new("raw_read16", static (r, p) => MmioLoops.RawRead16((byte*)p)),
        new("raw_read32", static (r, p) => MmioLoops.RawRead32((byte*)p)),
        new("raw_read64", static (r, p) => MmioLoops.RawRead64((byte*)p)),
        new("raw_write8", static (r, p) => { MmioLoops.RawWrite8((byte*)p); return 0; }),
        new("raw_write16", static (r, p) => { MmioLoops.RawWrite16((byte*)p); return 0; }),
        new("raw_write32", static (r, p) => { MmioLoops.RawWrite32((byte*)p); return 0; }),
        new("raw_write64", static (r, p) => { MmioLoops.RawWrite64((byte*)p); return 0; }),
        new("span_read8", static (r, p) => MmioLoops.SpanRead8(r)),
        new("span_read16", static (r, p) => MmioLoops.SpanRead16(r)),
        new("span_read32", static (r, p) => MmioLoops.SpanRead32(r)),
        new("span_read64", static (r, p) => MmioLoops.SpanRead64(r)),
        new("span_write8", static (r, p) => { MmioLoops.SpanWrite8(r); return 0; }),
        new("span_write16", static (r, p) => { MmioLoops.SpanWrite16(r); return 0; }),
        new("span_write32", static (r, p) => { MmioLoops.SpanWrite32(r); return 0; }),
        new("span_write64", static (r, p) => { MmioLoops.SpanWrite64(r); return 0; }),
        new("view_read8", static (r, p) => MmioLoops.ViewRead8(r)),
        new("view_read16", static (r, p) => MmioLoops.ViewRead16(r)),
        new("view_read32", static (r, p) => MmioLoops.ViewRead32(r)),
        new("view_read64", static (r, p) => MmioLoops.ViewRead64(r)),
        new("view_write8", static (r, p) => { MmioLoops.ViewWrite8(r); return 0; }),
        new("view_write16", static (r, p) => { MmioLoops.ViewWrite16(r); return 0; }),
        new("view_write32", static (r, p) => { MmioLoops.ViewWrite32(r); return 0; }),
        new("view_write64", static (r, p) => { MmioLoops.ViewWrite64(r); return 0; }),
        new("named_read32", static (r, p) => NamedLoops.Read32(s_named)),
        new("named_write32", static (r, p) => { NamedLoops.Write32(s_named); return 0; }),
        new("named_modify32", static (r, p) => { NamedLoops.Modify32(s_named); return 0; }),
    ];

    /// <summary>The named loops' block, bound once (binding per call would add its check to the count).</summary>
    private static RegisterBlock<BenchBlock, MmioBus> s_named;

    public static int Run(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: callgrind <repetitions> <path to libvgmark.so>");
            return 2;
        }

        var reps = int.Parse(args[0], CultureInfo.InvariantCulture);
        var lib = NativeLibrary.Load(args[1]);
        var zero = (delegate* unmanaged<void>)NativeLibrary.GetExport(lib, "vgmark_zero");
        var dump = (delegate* unmanaged<byte*, void>)NativeLibrary.GetExport(lib, "vgmark_dump");

        using var region = MmioRegion.CreateShared(MmioLoops.RegionBytes, mapped: true);
        using var raw = new SharedMapping(MmioLoops.RegionBytes);
        s_named = region.Bind<BenchBlock>();

        // Tiering: tier 0 (with OSR patchpoints), instrumented tier, tier 1, each after 30 calls and a
        // background delay. Keep calling until two whole rounds compile nothing new.
        long previous = -1;
        var stable = 0;
        for (var round = 0; round < 40 && stable < 2; round++)
        {
            foreach (var loop in Loops)
            {
                _ = Repeat(loop, 60, region, raw.Base);
            }

            Thread.Sleep(500);
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false);
            Console.Error.WriteLine($"warm-up round {round}: {compiled} methods compiled");
            stable = compiled == previous ? stable + 1 : 0;
            previous = compiled;
        }

        ulong sink = 0;
        foreach (var loop in Loops)
        {
            for (var factor = 1; factor <= 2; factor++)
            {
                var label = System.Text.Encoding.ASCII.GetBytes($"cs.{loop.Name}.x{factor}\0");
                zero();
                sink += Repeat(loop, reps * factor, region, raw.Base);
                fixed (byte* l = label)
                {
                    dump(l);
                }
            }
        }

        Console.WriteLine(FormattableString.Invariant($"callgrind.accesses_per_rep {MmioLoops.Accesses}"));
        Console.WriteLine(FormattableString.Invariant($"callgrind.reps {reps}"));
        Console.Error.WriteLine($"sink {sink}");
        return 0;
    }

    /// <summary>Runs <paramref name="loop"/> <paramref name="n"/> times: a plain counted loop around one
    /// call, so the harness adds only a few instructions per 1024 accesses.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Repeat(Loop loop, int n, MmioRegion r, byte* p)
    {
        ulong s = 0;
        for (var i = 0; i < n; i++)
        {
            s += loop.Run(r, (nint)p);
        }

        return s;
    }
}
