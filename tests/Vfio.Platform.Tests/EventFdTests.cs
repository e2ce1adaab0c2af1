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
        var wait = eventFd.WaitAsync(TestContext.Current.CancellationToken);

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
