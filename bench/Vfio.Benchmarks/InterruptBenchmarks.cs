using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Vfio.Platform.Interrupts;

namespace Vfio.Benchmarks;

/// <summary>The eventfd interrupt path of <see cref="EventFd"/>, with a software trigger:
/// <list type="bullet">
/// <item>SignalWaitSameThread: Signal(1) then Wait (write, poll, read) on one thread: the syscall cost, no wake-up.</item>
/// <item>PingPong: two threads, two eventfds; this thread signals "ping" and blocks in Wait on "pong", a
/// partner thread blocked in Wait on "ping" answers. Reported per wake-up (round trip / 2).</item>
/// <item>PingPongWaitAsync: the same round trip with this side awaiting <see cref="EventFd.WaitAsync"/>
/// (armed before the ping, so it always takes the asynchronous path: the EventFd's poll thread wakes and
/// runs the continuation). Per wake-up (round trip / 2).</item>
/// </list></summary>
[MemoryDiagnoser]
public class InterruptBenchmarks
{
    /// <summary>Round trips per invocation of the ping-pong benchmarks.</summary>
    public const int RoundTrips = 16;

    private EventFd _self = null!;
    private PingPongPartner _partner = null!;

    [GlobalSetup]
    public void Setup()
    {
        _self = EventFd.Create();
        _partner = new PingPongPartner();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _partner.Dispose();
        _self.Dispose();
    }

    [Benchmark]
    public ulong SignalWaitSameThread()
    {
        _self.Signal(1);
        return _self.Wait(Timeout.InfiniteTimeSpan);
    }

    [Benchmark(OperationsPerInvoke = 2 * RoundTrips)]
    public ulong PingPong()
    {
        ulong n = 0;
        var ping = _partner.Ping;
        var pong = _partner.Pong;
        for (var i = 0; i < RoundTrips; i++)
        {
            ping.Signal(1);
            n += pong.Wait(Timeout.InfiniteTimeSpan);
        }

        return n;
    }

    // Pooled builder: the benchmark's own state machine is reused, so Allocated shows the library's.
    [Benchmark(OperationsPerInvoke = 2 * RoundTrips)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ulong> PingPongWaitAsync()
    {
        ulong n = 0;
        var ping = _partner.Ping;
        var pong = _partner.Pong;
        for (var i = 0; i < RoundTrips; i++)
        {
            var wait = pong.WaitAsync(CancellationToken.None);
            ping.Signal(1);
            n += await wait;
        }

        return n;
    }
}

/// <summary>A thread that answers every signal on <see cref="Ping"/> with one on <see cref="Pong"/>:
/// the stand-in for a device raising an interrupt in response to a doorbell.</summary>
public sealed class PingPongPartner : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;

    public PingPongPartner()
    {
        Ping = EventFd.Create();
        Pong = EventFd.Create();
        _thread = new Thread(Run) { IsBackground = true, Name = "ping-pong partner" };
        _thread.Start();
    }

    public EventFd Ping { get; }

    public EventFd Pong { get; }

    private void Run()
    {
        while (true)
        {
            _ = Ping.Wait(Timeout.InfiniteTimeSpan);
            if (_stop)
            {
                return;
            }

            Pong.Signal(1);
        }
    }

    public void Dispose()
    {
        _stop = true;
        Ping.Signal(1);
        _thread.Join();
        Ping.Dispose();
        Pong.Dispose();
    }
}
