using Vfio.Platform.Interrupts;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The eventfd under every interrupt, on the real kernel of this machine.</summary>
public sealed class EventFdTests
{
    [Fact]
    public void A_wait_returns_the_merged_count_and_resets_it()
    {
        using var eventFd = EventFd.Create();
        eventFd.Signal();
        eventFd.Signal(2);

        Assert.Equal(3UL, eventFd.Wait(TimeSpan.FromSeconds(5)));
        Assert.Equal(0UL, eventFd.TryRead());
    }

    [Fact]
    public void A_wait_with_nothing_signalled_times_out_with_zero()
    {
        using var eventFd = EventFd.Create();

        Assert.Equal(0UL, eventFd.Wait(TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public async Task An_async_wait_completes_when_another_thread_signals()
    {
        using var eventFd = EventFd.Create();
        var wait = eventFd.WaitAsync(TestContext.Current.CancellationToken).AsTask();

        var signaller = new Thread(() =>
        {
            Thread.Sleep(30);
            eventFd.Signal();
        });
        signaller.Start();

        Assert.Equal(1UL, await wait);
        signaller.Join();
    }

    [Fact]
    public async Task An_async_wait_is_cancellable()
    {
        using var eventFd = EventFd.Create();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await eventFd.WaitAsync(cancel.Token));
    }

    [Fact]
    public void Waiting_allocates_nothing()
    {
        using var eventFd = EventFd.Create();
        eventFd.Signal();
        eventFd.Wait(TimeSpan.FromSeconds(1));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            eventFd.Signal();
            eventFd.Wait(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

/// <summary>Asynchronous waits on the dedicated waiter thread; alone, because they count allocations
/// process-wide and cross threads.</summary>
[Collection(nameof(DescriptorLeakTests))]
public sealed class EventFdAsyncTests
{
    private const int Waits = 2000;

    [Fact]
    public async Task Repeated_async_waits_return_each_signal_and_do_not_allocate_per_wait()
    {
        using var eventFd = EventFd.Create();
        using var signaller = EventFd.Create();
        var ct = TestContext.Current.CancellationToken;
        var stop = false;
        var thread = new Thread(() =>
        {
            // Answer every request on "signaller" with a signal on "eventFd": a ping-pong.
            while (signaller.Wait(TimeSpan.FromSeconds(5)) != 0 && !Volatile.Read(ref stop))
            {
                eventFd.Signal();
            }
        });
        thread.Start();

        var allocated = await Task.Run(() => MeasureAsync(eventFd, signaller, ct), ct);
        Volatile.Write(ref stop, true);
        signaller.Signal();
        thread.Join();

        // The count is process-wide, so the runner's own threads add a few kilobytes of noise; one
        // allocation per wait (24 bytes at least) would add 48 KB. -1: a wait returned the wrong count.
        Assert.InRange(allocated, 0, Waits * 8);
    }

    /// <summary>Away from the test framework's synchronization context, continuations run inline on
    /// the waiter thread, as they would in a driver loop.</summary>
    private static async Task<long> MeasureAsync(EventFd eventFd, EventFd signaller, CancellationToken ct)
    {
        signaller.Signal();
        Assert.Equal(1UL, await eventFd.WaitAsync(ct).ConfigureAwait(false)); // warm-up: starts the waiter thread
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < Waits; i++)
        {
            signaller.Signal();
            if (await eventFd.WaitAsync(ct).ConfigureAwait(false) != 1)
            {
                return -1;
            }
        }

        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    [Fact]
    public async Task Disposing_ends_a_pending_async_wait()
    {
        var eventFd = EventFd.Create();
        var wait = eventFd.WaitAsync(TestContext.Current.CancellationToken).AsTask();

        eventFd.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await wait);
    }

    [Fact]
    public async Task A_signal_with_no_wait_pending_is_kept_for_the_next_wait_and_the_waiter_thread_comes_back()
    {
        var ct = TestContext.Current.CancellationToken;
        using var eventFd = EventFd.Create();
        var first = eventFd.WaitAsync(ct).AsTask(); // starts the waiter thread
        eventFd.Signal(1);
        Assert.Equal(1UL, await first);

        for (var round = 0; round < 50; round++)
        {
            // Fired while nothing waits: the thread must park, leaving the count to the next wait.
            eventFd.Signal(2);
            await Task.Delay(round % 5 == 0 ? 20 : 0, ct);
            Assert.Equal(2UL, await eventFd.WaitAsync(ct));

            // The next wait arms a parked (or polling) thread; a later signal must reach it.
            var wait = eventFd.WaitAsync(ct).AsTask();
            await Task.Delay(round % 3 == 0 ? 5 : 0, ct);
            eventFd.Signal(3);
            Assert.Equal(3UL, await wait.WaitAsync(TimeSpan.FromSeconds(5), ct));
        }
    }

    [Fact]
    public async Task A_continuation_that_disposes_the_eventfd_on_the_waiter_thread_ends_it_cleanly()
    {
        var ct = TestContext.Current.CancellationToken;
        for (var round = 0; round < 20; round++)
        {
            var eventFd = EventFd.Create();
            var disposed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            OnWaiterThread(eventFd.WaitAsync(ct), () =>
            {
                eventFd.Dispose();
                disposed.SetResult(Environment.CurrentManagedThreadId);
            });

            eventFd.Signal(1);
            Assert.NotEqual(Environment.CurrentManagedThreadId, await disposed.Task.WaitAsync(TimeSpan.FromSeconds(5), ct));
        }

        await Task.Delay(100, ct); // an exception on a waiter thread would have ended the process by now
    }

    /// <summary>Runs <paramref name="continuation"/> when <paramref name="wait"/> completes, inline on the
    /// waiter thread: without a synchronization context (ConfigureAwait(false)), nothing posts it elsewhere,
    /// so the waiter thread returns into its loop only after it.</summary>
    private static void OnWaiterThread(ValueTask<ulong> wait, Action continuation) =>
        wait.ConfigureAwait(false).GetAwaiter().OnCompleted(continuation);

    [Fact]
    public async Task Disposing_a_waiter_whose_thread_is_parked_returns()
    {
        var ct = TestContext.Current.CancellationToken;
        var eventFd = EventFd.Create();
        var first = eventFd.WaitAsync(ct).AsTask();
        eventFd.Signal(1);
        await first;
        eventFd.Signal(1); // nothing waits: the thread parks
        await Task.Delay(50, ct);

        var dispose = Task.Run(eventFd.Dispose, ct);

        await dispose.WaitAsync(TimeSpan.FromSeconds(5), ct); // joins the thread: it must have left the park
    }

    [Fact]
    public async Task Only_one_async_wait_may_be_pending()
    {
        using var eventFd = EventFd.Create();
        using var cancel = new CancellationTokenSource();
        var first = eventFd.WaitAsync(cancel.Token).AsTask();

        Assert.Throws<InvalidOperationException>(() => { _ = eventFd.WaitAsync(TestContext.Current.CancellationToken).AsTask(); });

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first);
        eventFd.Signal(4);
        Assert.Equal(4UL, await eventFd.WaitAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>What docs/api-guide.md says of the poll threads: one per eventfd, started by the first
    /// WaitAsync that has to wait, reused by every later one, none for Wait, gone with Dispose. Counted by
    /// name in /proc/self/task (this collection runs alone).</summary>
    [Fact]
    public async Task Each_eventfd_gets_one_poll_thread_from_its_first_async_wait_until_it_is_disposed()
    {
        var ct = TestContext.Current.CancellationToken;
        // Counted by thread id, not by number: a poll thread of an earlier test's disposed eventfd may still be on
        // its way out when this starts, and must count neither as ours nor against us.
        var earlier = WaiterThreadIds();
        int Ours() => WaiterThreadIds().Count(id => !earlier.Contains(id));
        var a = EventFd.Create();
        var b = EventFd.Create();
        a.Signal(1);
        Assert.Equal(1UL, a.Wait(TimeSpan.FromSeconds(1)));
        a.Signal(1);
        Assert.Equal(1UL, await a.WaitAsync(ct)); // a count already there: completes at once
        Assert.Equal(0, Ours());

        var pendingA = a.WaitAsync(ct).AsTask();
        var pendingB = b.WaitAsync(ct).AsTask();
        await WaitFor(Ours, 2, ct);
        a.Signal(2);
        b.Signal(3);
        Assert.Equal(2UL, await pendingA);
        Assert.Equal(3UL, await pendingB);
        var again = a.WaitAsync(ct).AsTask();
        a.Signal(1);
        Assert.Equal(1UL, await again);
        Assert.Equal(2, Ours());

        a.Dispose();
        await WaitFor(Ours, 1, ct);
        b.Dispose();
        await WaitFor(Ours, 0, ct);
    }

    private static HashSet<string> WaiterThreadIds() =>
        Directory.EnumerateDirectories("/proc/self/task").Where(task =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(task, "comm")).StartsWith("vfio-irq-wait", StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false; // ended meanwhile
            }
        }).Select(Path.GetFileName).ToHashSet()!;

    /// <summary>A thread is named as it starts and leaves the task list a moment after it ends: allow 2 s.</summary>
    private static async Task WaitFor(Func<int> count, int expected, CancellationToken ct)
    {
        for (var i = 0; i < 200 && count() != expected; i++)
        {
            await Task.Delay(10, ct);
        }

        Assert.Equal(expected, count());
    }
}
