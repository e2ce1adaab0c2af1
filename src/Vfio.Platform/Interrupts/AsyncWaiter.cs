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
    private int _disposeStarted;
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

        // Dispose may have come between the check above and the publication: its thread may then have
        // left without seeing this wait, which would never complete. Whoever claims the wait ends it.
        if (_disposed && TryClaim())
        {
            Complete(0, new ObjectDisposedException(nameof(EventFd)));
        }

        return task;
    }

    private void Run()
    {
        // The thread holds a reference on the eventfd's descriptor for its whole life: a continuation
        // running here may dispose the EventFd, and the descriptor must stay ours until the loop has left.
        int target;
        try
        {
            target = _target.Enter();
        }
        catch (ObjectDisposedException)
        {
            _disposed = true;
            if (TryClaim())
            {
                Complete(0, new ObjectDisposedException(nameof(EventFd)));
            }

            _wake.Dispose();
            return;
        }

        try
        {
            Loop(target);
        }
        finally
        {
            _target.Leave();
            // The thread owns the wake-up fd's end of life: Dispose may run on this very thread
            // (from an inline continuation), so it cannot close what the loop still polls.
            _wake.Dispose();
        }
    }

    private void Loop(int target)
    {
        Span<pollfd> fds = stackalloc pollfd[2];
        Span<byte> drain = stackalloc byte[8];
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
                if (TryClaim())
                {
                    Complete(0, new ObjectDisposedException(nameof(EventFd)));
                }

                return;
            }

            if (ready < 0)
            {
                if (TryClaim())
                {
                    Complete(0, new VfioException("poll(eventfd)", "interrupt", -ready));
                }

                Park(); // nothing to wait for until the next arm, which may poll again
                continue;
            }

            if ((fds[1].revents & LibcConstants.POLLIN) != 0)
            {
                _ = _sys.ReadNonBlocking(wake, drain);
                if (Volatile.Read(ref _pending) != 0 && _token.IsCancellationRequested && TryClaim())
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

                ulong count;
                try
                {
                    count = _target.Read(target);
                }
                catch (Exception e) when (e is VfioException or ObjectDisposedException)
                {
                    // Thrown on this background thread it would end the process; the wait reports it.
                    if (TryClaim())
                    {
                        Complete(0, e);
                    }

                    continue;
                }

                if (count != 0 && TryClaim())
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

    /// <summary>Takes the pending wait for completing it: the waiter thread and a WaitAsync that raced
    /// with Dispose may both try, exactly one succeeds.</summary>
    private bool TryClaim() => Volatile.Read(ref _pending) != 0 && Interlocked.Exchange(ref _pending, 0) != 0;

    private void Complete(ulong count, Exception? error)
    {
        _registration.Dispose();
        _registration = default;
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
        // The thread closes the wake-up fd as it leaves, possibly just before a late cancellation or
        // Dispose gets here: write only while holding a reference, and not at all once it is closed.
        var added = false;
        try
        {
            _wake.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return; // the thread has left: nobody to wake
        }

        try
        {
            Span<byte> one = stackalloc byte[8];
            one[0] = 1;
            _ = _sys.Write((int)_wake.DangerousGetHandle(), one);
        }
        finally
        {
            _wake.DangerousRelease();
        }
    }

    public ulong GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>Stops the thread (a pending wait ends with ObjectDisposedException); the thread closes
    /// the wake-up fd as it leaves. Waits for it unless called from it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            return;
        }

        _disposed = true;
        Interlocked.MemoryBarrier(); // against WaitAsync's publication of _pending: one of the two sees the other
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
