using Vfio.Native;
using Vfio.Platform.Interrupts;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>Disposing an eventfd while other threads wait on it, on the real kernel, through a seam that
/// remembers every descriptor closed and reports any later use of its number.</summary>
public sealed class EventFdDisposeTests
{
    private const int Rounds = 50;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_blocked_wait_with_no_timeout_throws_ObjectDisposedException_when_another_thread_disposes()
    {
        var ct = TestContext.Current.CancellationToken;
        var sys = new ClosedFdWatch();
        for (var round = 0; round < Rounds; round++)
        {
            var eventFd = EventFd.Create(sys);
            var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var wait = Task.Factory.StartNew(() =>
            {
                entered.SetResult();
                return eventFd.Wait(Timeout.InfiniteTimeSpan);
            }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await entered.Task;
            await Task.Delay(round % 5, ct); // sometimes in poll already, sometimes just before it

            eventFd.Dispose();

            await Assert.ThrowsAsync<ObjectDisposedException>(() => wait.WaitAsync(Bound, ct));
        }

        sys.AssertNoUseAfterClose();
        Assert.Equal(0, sys.OpenDescriptors);
    }

    [Fact]
    public async Task A_pending_async_wait_throws_ObjectDisposedException_when_another_thread_disposes()
    {
        var ct = TestContext.Current.CancellationToken;
        var sys = new ClosedFdWatch();
        for (var round = 0; round < Rounds; round++)
        {
            var eventFd = EventFd.Create(sys);
            if (round % 2 == 1)
            {
                // A waiter thread that has run a wait already (it polls again, or parks).
                eventFd.Signal();
                Assert.Equal(1UL, await eventFd.WaitAsync(ct));
            }

            var wait = eventFd.WaitAsync(ct).AsTask();
            await Task.Delay(round % 3, ct);

            await Task.Run(eventFd.Dispose, ct);

            await Assert.ThrowsAsync<ObjectDisposedException>(() => wait.WaitAsync(Bound, ct));
        }

        sys.AssertNoUseAfterClose();
        Assert.Equal(0, sys.OpenDescriptors); // the waiter threads' own wake-up eventfds included
    }

    [Fact]
    public async Task An_async_wait_racing_with_dispose_completes_or_is_refused_never_hangs()
    {
        var ct = TestContext.Current.CancellationToken;
        var sys = new ClosedFdWatch();
        for (var round = 0; round < Rounds; round++)
        {
            var eventFd = EventFd.Create(sys);
            eventFd.Signal();
            Assert.Equal(1UL, await eventFd.WaitAsync(ct)); // the waiter thread runs

            using var start = new Barrier(2);
            var disposer = Task.Run(() =>
            {
                start.SignalAndWait(ct);
                eventFd.Dispose();
            }, ct);
            start.SignalAndWait(ct);
            try
            {
                await eventFd.WaitAsync(ct).AsTask().WaitAsync(Bound, ct);
                Assert.Fail("nothing signalled the eventfd");
            }
            catch (ObjectDisposedException)
            {
                // The documented outcome, whether the wait started before Dispose or was refused after it.
            }

            await disposer.WaitAsync(Bound, ct);
        }

        sys.AssertNoUseAfterClose();
        Assert.Equal(0, sys.OpenDescriptors);
    }

    [Fact]
    public async Task Every_thread_blocked_in_Wait_wakes_up_on_dispose()
    {
        var ct = TestContext.Current.CancellationToken;
        var sys = new ClosedFdWatch();
        var eventFd = EventFd.Create(sys);
        var waits = Enumerable.Range(0, 4)
            .Select(_ => Task.Factory.StartNew(() => eventFd.Wait(Timeout.InfiniteTimeSpan), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToArray();
        await Task.Delay(50, ct);

        eventFd.Dispose();

        foreach (var wait in waits)
        {
            await Assert.ThrowsAsync<ObjectDisposedException>(() => wait.WaitAsync(Bound, ct));
        }

        sys.AssertNoUseAfterClose();
        Assert.Equal(0, sys.OpenDescriptors);
    }

    [Fact]
    public async Task Waits_signals_and_disposes_hammered_together_never_touch_a_closed_descriptor()
    {
        var ct = TestContext.Current.CancellationToken;
        var sys = new ClosedFdWatch();
        for (var round = 0; round < Rounds; round++)
        {
            var eventFd = EventFd.Create(sys);
            var waiter = Task.Factory.StartNew(() =>
            {
                try
                {
                    while (true)
                    {
                        eventFd.Wait(Timeout.InfiniteTimeSpan);
                    }
                }
                catch (ObjectDisposedException)
                {
                }
            }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            var signaller = Task.Run(() =>
            {
                try
                {
                    for (var i = 0; i < 200; i++)
                    {
                        eventFd.Signal();
                    }
                }
                catch (ObjectDisposedException)
                {
                }
            }, ct);
            await Task.Delay(round % 4, ct);

            await Task.WhenAll(Task.Run(eventFd.Dispose, ct), Task.Run(eventFd.Dispose, ct)); // twice, at once

            await waiter.WaitAsync(Bound, ct);
            await signaller.WaitAsync(Bound, ct);
        }

        sys.AssertNoUseAfterClose();
        Assert.Equal(0, sys.OpenDescriptors);
    }

    [Fact]
    public void Every_call_after_dispose_throws_ObjectDisposedException()
    {
        var eventFd = EventFd.Create();
        eventFd.Dispose();
        eventFd.Dispose();

        Assert.Throws<ObjectDisposedException>(() => eventFd.Wait(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => eventFd.TryRead());
        Assert.Throws<ObjectDisposedException>(() => eventFd.Signal());
        Assert.Throws<ObjectDisposedException>(() => { _ = eventFd.WaitAsync(TestContext.Current.CancellationToken).AsTask(); });
        Assert.Throws<ObjectDisposedException>(() => eventFd.Fd);
    }

    [Fact]
    public void Waiting_still_allocates_nothing_and_makes_one_poll_and_one_read()
    {
        var sys = new ClosedFdWatch();
        using var eventFd = EventFd.Create(sys);
        eventFd.Signal();
        eventFd.Wait(TimeSpan.FromSeconds(1));
        var (polls, reads) = (sys.Polls, sys.Reads);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            eventFd.Signal();
            eventFd.Wait(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1000, sys.Polls - polls);
        Assert.Equal(1000, sys.Reads - reads);
    }

    /// <summary>The real system calls; remembers which numbers were closed (until the kernel hands the
    /// number out again through this seam) and records every poll, read or write of one of them.</summary>
    internal sealed class ClosedFdWatch : ISyscalls
    {
        private readonly LinuxSyscalls _real = LinuxSyscalls.Instance;
        private readonly HashSet<int> _closed = [];
        private readonly List<string> _misuse = [];
        private readonly Lock _gate = new();
        private int _open;
        private int _polls;
        private int _reads;

        public int OpenDescriptors => Volatile.Read(ref _open);

        public int Polls => Volatile.Read(ref _polls);

        public int Reads => Volatile.Read(ref _reads);

        public void AssertNoUseAfterClose()
        {
            lock (_gate)
            {
                Assert.Empty(_misuse);
            }
        }

        private void Check(int fd, string call)
        {
            lock (_gate)
            {
                if (_closed.Contains(fd))
                {
                    _misuse.Add($"{call}({fd}) after close");
                }
            }
        }

        public int Open(string path, int flags) => throw new NotSupportedException();

        public int Close(int fd)
        {
            lock (_gate)
            {
                // Marked before the close: a number the kernel may reuse at once must already count as closed.
                _closed.Add(fd);
            }

            Interlocked.Decrement(ref _open);
            return _real.Close(fd);
        }

        public int Ioctl(int fd, uint request, nuint argument) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, Span<byte> argument) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer) => throw new NotSupportedException();

        public nint Mmap(nuint length, int protection, int flags, int fd, long offset) => throw new NotSupportedException();

        public int Munmap(nint address, nuint length) => throw new NotSupportedException();

        public int EventFd(uint initialValue, int flags)
        {
            var fd = _real.EventFd(initialValue, flags);
            if (fd >= 0)
            {
                Interlocked.Increment(ref _open);
                lock (_gate)
                {
                    _closed.Remove(fd);
                }
            }

            return fd;
        }

        public nint ReadNonBlocking(int fd, Span<byte> buffer)
        {
            Interlocked.Increment(ref _reads);
            Check(fd, "read");
            return _real.ReadNonBlocking(fd, buffer);
        }

        public nint Write(int fd, ReadOnlySpan<byte> buffer)
        {
            Check(fd, "write");
            return _real.Write(fd, buffer);
        }

        public nint Pread(int fd, Span<byte> buffer, long offset) => throw new NotSupportedException();

        public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset) => throw new NotSupportedException();

        public int Poll(Span<pollfd> fds, int timeoutMilliseconds)
        {
            Interlocked.Increment(ref _polls);
            foreach (var entry in fds)
            {
                Check(entry.fd, "poll");
            }

            return _real.Poll(fds, timeoutMilliseconds);
        }
    }
}

/// <summary>Dispose during waits leaves no descriptor behind, counted in /proc/self/fd; alone, because
/// other tests open descriptors.</summary>
[Collection(nameof(DescriptorLeakTests))]
public sealed class EventFdDisposeLeakTests
{
    [Fact]
    public async Task Disposing_during_waits_leaks_no_descriptor()
    {
        var ct = TestContext.Current.CancellationToken;
        await Round(ct); // once unmeasured: the thread pool and the JIT settle
        var before = Directory.GetFileSystemEntries("/proc/self/fd").Length;

        for (var i = 0; i < 50; i++)
        {
            await Round(ct);
        }

        Assert.Equal(before, Directory.GetFileSystemEntries("/proc/self/fd").Length);
    }

    private static async Task Round(CancellationToken ct)
    {
        var blocking = EventFd.Create();
        var asynchronous = EventFd.Create();
        var wait = Task.Factory.StartNew(() => blocking.Wait(Timeout.InfiniteTimeSpan), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var waitAsync = asynchronous.WaitAsync(ct).AsTask();
        await Task.Delay(1, ct);

        blocking.Dispose();
        asynchronous.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5), ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waitAsync.WaitAsync(TimeSpan.FromSeconds(5), ct));
    }
}
