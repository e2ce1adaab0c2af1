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
    private static readonly string[] Names =
    [
        "read8", "read16", "read32", "read64", "write8", "write16", "write32", "write64",
        "raw_read8", "raw_read16", "raw_read32", "raw_read64", "raw_write8", "raw_write16", "raw_write32", "raw_write64",
        "span_read8", "span_read16", "span_read32", "span_read64", "span_write8", "span_write16", "span_write32", "span_write64",
        "view_read8", "view_read16", "view_read32", "view_read64", "view_write8", "view_write16", "view_write32", "view_write64",
    ];

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

        // Tiering: tier 0 (with OSR patchpoints), instrumented tier, tier 1, each after 30 calls and a
        // background delay. Keep calling until two whole rounds compile nothing new.
        long previous = -1;
        var stable = 0;
        for (var round = 0; round < 40 && stable < 2; round++)
        {
            for (var op = 0; op < Names.Length; op++)
            {
                _ = Repeat(op, 60, region, raw.Base);
            }

            Thread.Sleep(500);
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false);
            Console.Error.WriteLine($"warm-up round {round}: {compiled} methods compiled");
            stable = compiled == previous ? stable + 1 : 0;
            previous = compiled;
        }

        ulong sink = 0;
        for (var op = 0; op < Names.Length; op++)
        {
            for (var factor = 1; factor <= 2; factor++)
            {
                var label = System.Text.Encoding.ASCII.GetBytes($"cs.{Names[op]}.x{factor}\0");
                zero();
                sink += Repeat(op, reps * factor, region, raw.Base);
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

    /// <summary>Runs loop <paramref name="op"/> <paramref name="n"/> times: a plain counted loop around a
    /// direct call, so the harness adds only a few instructions per 1024 accesses.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong Repeat(int op, int n, MmioRegion r, byte* p)
    {
        ulong s = 0;
        switch (op)
        {
            case 0: for (var i = 0; i < n; i++) { s += MmioLoops.Read8(r); } break;
            case 1: for (var i = 0; i < n; i++) { s += MmioLoops.Read16(r); } break;
            case 2: for (var i = 0; i < n; i++) { s += MmioLoops.Read32(r); } break;
            case 3: for (var i = 0; i < n; i++) { s += MmioLoops.Read64(r); } break;
            case 4: for (var i = 0; i < n; i++) { MmioLoops.Write8(r); } break;
            case 5: for (var i = 0; i < n; i++) { MmioLoops.Write16(r); } break;
            case 6: for (var i = 0; i < n; i++) { MmioLoops.Write32(r); } break;
            case 7: for (var i = 0; i < n; i++) { MmioLoops.Write64(r); } break;
            case 8: for (var i = 0; i < n; i++) { s += MmioLoops.RawRead8(p); } break;
            case 9: for (var i = 0; i < n; i++) { s += MmioLoops.RawRead16(p); } break;
            case 10: for (var i = 0; i < n; i++) { s += MmioLoops.RawRead32(p); } break;
            case 11: for (var i = 0; i < n; i++) { s += MmioLoops.RawRead64(p); } break;
            case 12: for (var i = 0; i < n; i++) { MmioLoops.RawWrite8(p); } break;
            case 13: for (var i = 0; i < n; i++) { MmioLoops.RawWrite16(p); } break;
            case 14: for (var i = 0; i < n; i++) { MmioLoops.RawWrite32(p); } break;
            case 15: for (var i = 0; i < n; i++) { MmioLoops.RawWrite64(p); } break;
            case 16: for (var i = 0; i < n; i++) { s += MmioLoops.SpanRead8(r); } break;
            case 17: for (var i = 0; i < n; i++) { s += MmioLoops.SpanRead16(r); } break;
            case 18: for (var i = 0; i < n; i++) { s += MmioLoops.SpanRead32(r); } break;
            case 19: for (var i = 0; i < n; i++) { s += MmioLoops.SpanRead64(r); } break;
            case 20: for (var i = 0; i < n; i++) { MmioLoops.SpanWrite8(r); } break;
            case 21: for (var i = 0; i < n; i++) { MmioLoops.SpanWrite16(r); } break;
            case 22: for (var i = 0; i < n; i++) { MmioLoops.SpanWrite32(r); } break;
            case 23: for (var i = 0; i < n; i++) { MmioLoops.SpanWrite64(r); } break;
            case 24: for (var i = 0; i < n; i++) { s += MmioLoops.ViewRead8(r); } break;
            case 25: for (var i = 0; i < n; i++) { s += MmioLoops.ViewRead16(r); } break;
            case 26: for (var i = 0; i < n; i++) { s += MmioLoops.ViewRead32(r); } break;
            case 27: for (var i = 0; i < n; i++) { s += MmioLoops.ViewRead64(r); } break;
            case 28: for (var i = 0; i < n; i++) { MmioLoops.ViewWrite8(r); } break;
            case 29: for (var i = 0; i < n; i++) { MmioLoops.ViewWrite16(r); } break;
            case 30: for (var i = 0; i < n; i++) { MmioLoops.ViewWrite32(r); } break;
            default: for (var i = 0; i < n; i++) { MmioLoops.ViewWrite64(r); } break;
        }

        return s;
    }
}
