using System.Threading.Tasks.Sources;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Interrupts;

/// <summary>The engine under <see cref="EventFd.WaitAsync"/>: one dedicated thread per eventfd that
/// blocks in poll(2) on the eventfd and on a private wake-up eventfd (for cancellation and dispose),
/// and completes a reusable <see cref="IValueTaskSource{TResult}"/>. After the first await nothing is
/// allocated per wait, and a wake-up costs one poll return and one continuation, no timer slices.
/// Continuations run on the waiter thread (the lowest latency); a handler that blocks delays the next
/// wait of the same interrupt only.
/// <para>The thread goes back to poll as soon as a wait completes, so arming the next wait costs no
/// thread wake-up; it parks (on a semaphore) only when the eventfd fires while no wait is pending, and
/// the next arm releases it. Parking and arming meet Dekker-style: each side publishes its flag with a
/// full fence, then reads the other's, so at least one of them sees the other.</para></summary>
internal sealed class AsyncWaiter : IValueTaskSource<ulong>, IDisposable
{
    private readonly ISyscalls _sys;
    private readonly EventFd _target;
    private readonly KernelFd _wake;
    private readonly SemaphoreSlim _armed = new(0); // no wait handle is ever made, so it needs no Dispose
    private readonly Thread _thread;
    private ManualResetValueTaskSourceCore<ulong> _core = new() { RunContinuationsAsynchronously = false };
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;
    private int _busy;      // a wait is taken (WaitAsync to Complete): refuses a second one
    private int _pending;   // ... and published: the waiter thread may complete it
    private int _parked;    // the waiter thread is (about to be) blocked on _armed
    private volatile bool _disposed;

    public AsyncWaiter(ISyscalls sys, EventFd target)
    {
        _sys = sys;
        _target = target;
        var fd = sys.EventFd(0, LibcConstants.EFD_CLOEXEC | LibcConstants.EFD_NONBLOCK);
        _wake = fd < 0 ? throw new VfioException("eventfd", "interrupt waiter", -fd) : new KernelFd(sys, fd);
        _thread = new Thread(Run) { IsBackground = true, Name = $"vfio-irq-wait {target.Fd}" };
        _thread.Start();
    }

    /// <summary>The thread saw the eventfd fire while no wait was pending, and waits for the next arm.</summary>
    public bool IsParked => Volatile.Read(ref _parked) != 0;

    public ValueTask<ulong> WaitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("Only one asynchronous wait per interrupt may be pending.");
        }

        _core.Reset();
        _token = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(static state => ((AsyncWaiter)state!).Wake(), this);
        }

        var task = new ValueTask<ulong>(this, _core.Version);
        Interlocked.Exchange(ref _pending, 1);
        if (Interlocked.Exchange(ref _parked, 0) == 1)
        {
            _armed.Release(); // the thread had parked on an event nobody waited for
        }

        return task;
    }

    private void Run()
    {
        try
        {
            Loop();
        }
        finally
        {
            // The thread owns the wake-up fd's end of life: Dispose may run on this very thread
            // (from an inline continuation), so it cannot close what the loop still polls.
            _wake.Dispose();
        }
    }

    private void Loop()
    {
        Span<pollfd> fds = stackalloc pollfd[2];
        Span<byte> drain = stackalloc byte[8];
        // The numbers, taken once: a continuation running on this thread may dispose the EventFd (and
        // close its descriptor) before the loop comes round; _disposed is checked before every poll.
        var target = _target.Fd;
        var wake = _wake.Fd;
        while (true)
        {
            var ready = 0;
            if (!_disposed)
            {
                fds[0] = new pollfd { fd = target, events = (short)LibcConstants.POLLIN };
                fds[1] = new pollfd { fd = wake, events = (short)LibcConstants.POLLIN };
                ready = _sys.Poll(fds, -1);
                if (ready == -Errno.EINTR)
                {
                    continue;
                }
            }

            if (_disposed)
            {
                if (Volatile.Read(ref _pending) != 0)
                {
                    Complete(0, new ObjectDisposedException(nameof(EventFd)));
                }

                return;
            }

            if (ready < 0)
            {
                if (Volatile.Read(ref _pending) != 0)
                {
                    Complete(0, new VfioException("poll(eventfd)", "interrupt", -ready));
                }

                Park(); // nothing to wait for until the next arm, which may poll again
                continue;
            }

            if ((fds[1].revents & LibcConstants.POLLIN) != 0)
            {
                _ = _sys.ReadNonBlocking(wake, drain);
                if (Volatile.Read(ref _pending) != 0 && _token.IsCancellationRequested)
                {
                    Complete(0, new OperationCanceledException(_token));
                    continue;
                }
            }

            if ((fds[0].revents & LibcConstants.POLLIN) != 0)
            {
                if (Volatile.Read(ref _pending) == 0)
                {
                    Park(); // fired with no wait pending: leave the count for the next wait
                    continue;
                }

                var count = _target.TryRead();
                if (count != 0)
                {
                    Complete(count, null);
                }
            }
        }
    }

    /// <summary>Blocks the waiter thread until a wait is armed or the waiter is disposed.</summary>
    private void Park()
    {
        Interlocked.Exchange(ref _parked, 1);
        if (Volatile.Read(ref _pending) == 0 && !_disposed)
        {
            _armed.Wait();
        }
        else if (Interlocked.Exchange(ref _parked, 0) == 0)
        {
            _armed.Wait(); // the arm (or Dispose) took the flag: its Release is on the way
        }
    }

    private void Complete(ulong count, Exception? error)
    {
        _registration.Dispose();
        _registration = default;
        Volatile.Write(ref _pending, 0);
        Volatile.Write(ref _busy, 0);
        if (error is null)
        {
            _core.SetResult(count);
        }
        else
        {
            _core.SetException(error);
        }
    }

    private void Wake()
    {
        Span<byte> one = stackalloc byte[8];
        one[0] = 1;
        _ = _sys.Write(_wake.Fd, one);
    }

    public ulong GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>Stops the thread (a pending wait ends with ObjectDisposedException); the thread closes
    /// the wake-up fd as it leaves. Waits for it unless called from it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Wake();
        if (Interlocked.Exchange(ref _parked, 0) == 1)
        {
            _armed.Release();
        }
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }
}
