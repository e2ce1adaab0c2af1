using System.Threading.Tasks.Sources;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Interrupts;

/// <summary>The engine under <see cref="EventFd.WaitAsync"/>: one dedicated thread per eventfd that
/// blocks in poll(2) on the eventfd and on a private wake-up eventfd (for cancellation and dispose),
/// and completes a reusable <see cref="IValueTaskSource{TResult}"/>. After the first await nothing is
/// allocated per wait, and a wake-up costs one poll return and one continuation, no timer slices.
/// Continuations run on the waiter thread (the lowest latency); a handler that blocks delays the next
/// wait of the same interrupt only.</summary>
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
    private int _busy;
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

        _armed.Release();
        return new ValueTask<ulong>(this, _core.Version);
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
        while (true)
        {
            _armed.Wait();
            if (_disposed)
            {
                // Disposed before this thread got to the wait it was armed for: end that wait too.
                if (Volatile.Read(ref _busy) != 0)
                {
                    Complete(0, new ObjectDisposedException(nameof(EventFd)));
                }

                return;
            }

            while (true)
            {
                fds[0] = new pollfd { fd = _target.Fd, events = (short)LibcConstants.POLLIN };
                fds[1] = new pollfd { fd = _wake.Fd, events = (short)LibcConstants.POLLIN };
                var ready = _sys.Poll(fds, -1);
                if (ready == -Errno.EINTR)
                {
                    continue;
                }

                if (ready < 0)
                {
                    Complete(0, new VfioException("poll(eventfd)", "interrupt", -ready));
                    break;
                }

                if ((fds[1].revents & LibcConstants.POLLIN) != 0)
                {
                    _ = _sys.ReadNonBlocking(_wake.Fd, drain);
                    if (_disposed)
                    {
                        Complete(0, new ObjectDisposedException(nameof(EventFd)));
                        return;
                    }

                    if (_token.IsCancellationRequested)
                    {
                        Complete(0, new OperationCanceledException(_token));
                        break;
                    }
                }

                if ((fds[0].revents & LibcConstants.POLLIN) != 0)
                {
                    var count = _target.TryRead();
                    if (count != 0)
                    {
                        Complete(count, null);
                        break;
                    }
                }
            }
        }
    }

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
        _armed.Release();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }
    }
}
