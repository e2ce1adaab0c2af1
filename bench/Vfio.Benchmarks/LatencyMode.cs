using System.Diagnostics;
using System.Globalization;
using Vfio.Platform.Interrupts;

namespace Vfio.Benchmarks;

/// <summary>The wake-up latency distribution, measured the way ../baseline/baseline.c measures it: a
/// signalling thread S takes a CLOCK_MONOTONIC timestamp (Stopwatch.GetTimestamp is clock_gettime with
/// CLOCK_MONOTONIC on Linux), publishes it, and signals eventfd A; the waiting thread W takes a timestamp as
/// soon as its wait on A returns. One sample is that difference: from the "interrupt" to the waiter
/// running. W then signals eventfd B ("ready") and S, blocked on B, sends the next one, so W is always
/// asleep when signalled. Modes: blocking (<see cref="EventFd.Wait"/>) and async (<see cref="EventFd.WaitAsync"/>,
/// armed before "ready").</summary>
public static class LatencyMode
{
    public static int Run(string[] args)
    {
        var samples = 100_000;
        var warmup = 10_000;
        string? outDir = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--samples": samples = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outDir = args[++i]; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        Report("blocking", Measure(samples, warmup, async: false, out var blockingBytes), blockingBytes, outDir);
        Report("async", Measure(samples, warmup, async: true, out var asyncBytes), asyncBytes, outDir);
        return 0;
    }

    /// <param name="bytesPerWakeup">Managed bytes allocated by all threads (GC.GetTotalAllocatedBytes(precise))
    /// from the first measured wake-up to the last, per wake-up: both sides, the library and the harness.</param>
    private static long[] Measure(int samples, int warmup, bool async, out double bytesPerWakeup)
    {
        using var a = EventFd.Create();
        using var b = EventFd.Create();
        var total = warmup + samples;
        var state = new Shared(total, warmup); // allocated up front: nothing allocates inside the loops
        var signaller = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                _ = b.Wait(Timeout.InfiniteTimeSpan);
                Volatile.Write(ref state.Sent, Stopwatch.GetTimestamp());
                a.Signal(1);
            }
        })
        { IsBackground = true, Name = "signaller" };

        signaller.Start();
        if (async)
        {
            AsyncWaiter(a, b, state).AsTask().GetAwaiter().GetResult();
        }
        else
        {
            for (var i = 0; i < total; i++)
            {
                state.MarkAllocations(i);
                b.Signal(1);
                _ = a.Wait(Timeout.InfiniteTimeSpan);
                state.Ticks[i] = Stopwatch.GetTimestamp() - Volatile.Read(ref state.Sent);
            }
        }

        signaller.Join();
        bytesPerWakeup = (double)(GC.GetTotalAllocatedBytes(precise: true) - state.AllocatedAtFirstSample) / samples;
        var ns = new long[samples];
        for (var i = 0; i < samples; i++)
        {
            ns[i] = (long)(state.Ticks[warmup + i] * (1e9 / Stopwatch.Frequency));
        }

        return ns;
    }

    // Pooled: the harness's own async state machine is reused, so the allocation count is the library's.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AsyncWaiter(EventFd a, EventFd b, Shared state)
    {
        for (var i = 0; i < state.Ticks.Length; i++)
        {
            state.MarkAllocations(i);
            var wait = a.WaitAsync(CancellationToken.None);
            b.Signal(1);
            _ = await wait;
            state.Ticks[i] = Stopwatch.GetTimestamp() - Volatile.Read(ref state.Sent);
        }
    }

    private sealed class Shared(int total, int warmup)
    {
        public long Sent;
        public long AllocatedAtFirstSample;
        public readonly long[] Ticks = new long[total];

        public void MarkAllocations(int i)
        {
            if (i == warmup)
            {
                AllocatedAtFirstSample = GC.GetTotalAllocatedBytes(precise: true);
            }
        }
    }

    private static void Report(string mode, long[] ns, double bytesPerWakeup, string? outDir)
    {
        if (outDir is not null)
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllLines(Path.Combine(outDir, $"cs-{mode}.txt"), ns.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        }

        var sorted = (long[])ns.Clone();
        Array.Sort(sorted);
        Console.WriteLine(FormattableString.Invariant($"lat.{mode} samples {sorted.Length}"));
        Console.WriteLine(FormattableString.Invariant($"lat.{mode} alloc_bytes_per_wakeup {bytesPerWakeup:F1}"));
        Console.WriteLine(FormattableString.Invariant($"lat.{mode} mean_ns {sorted.Average():F0}"));
        Console.WriteLine(FormattableString.Invariant($"lat.{mode} p50_ns {Percentile(sorted, 0.50)}"));
        Console.WriteLine(FormattableString.Invariant($"lat.{mode} p99_ns {Percentile(sorted, 0.99)}"));
        Console.WriteLine(FormattableString.Invariant($"lat.{mode} p99.9_ns {Percentile(sorted, 0.999)}"));
        Console.WriteLine(FormattableString.Invariant($"lat.{mode} max_ns {sorted[^1]}"));
    }

    /// <summary>Nearest rank, as in baseline.c.</summary>
    private static long Percentile(long[] sorted, double q) =>
        sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
