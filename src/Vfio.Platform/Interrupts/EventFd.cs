using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Interrupts;

/// <summary>A Linux eventfd: the kernel's way to tell userspace that an interrupt fired. Waiting is a
/// poll plus an 8-byte read, with no allocation.</summary>
/// <remarks><see cref="Dispose"/> may be called from any thread, also while other threads wait: a
/// blocked <see cref="Wait"/> wakes up and throws <see cref="ObjectDisposedException"/>, and a pending
/// <see cref="WaitAsync"/> completes with the same exception. The descriptor is closed once the last of
/// those calls has left, so no call ever uses a closed (and possibly reused) descriptor number.</remarks>
public sealed class EventFd : IDisposable
{
    private readonly ISyscalls _sys;
    private readonly KernelFd _fd;
    private readonly Lock _waiterGate = new(); // taken once per EventFd (the first WaitAsync) and by Dispose
    private AsyncWaiter? _waiter;
    private int _disposing;
    private bool _blockingWaits; // a Wait has run: Dispose must signal, someone may be in poll
    private volatile bool _disposed;

    private EventFd(ISyscalls sys, KernelFd fd)
    {
        _sys = sys;
        _fd = fd;
    }

    /// <summary>The descriptor number, for handing to the kernel.</summary>
    /// <exception cref="ObjectDisposedException">The eventfd is disposed.</exception>
    public int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _fd.Fd;
        }
    }

    /// <summary>Creates a non-blocking, close-on-exec eventfd.</summary>
    public static EventFd Create() => Create(LinuxSyscalls.Instance);

    internal static EventFd Create(ISyscalls sys)
    {
        var fd = sys.EventFd(0, LibcConstants.EFD_CLOEXEC | LibcConstants.EFD_NONBLOCK);
        return fd < 0 ? throw new VfioException("eventfd", "interrupt", -fd) : new EventFd(sys, new KernelFd(sys, fd));
    }

    /// <summary>Adds <paramref name="count"/> to the counter, waking a waiter (what the kernel does when the IRQ fires).</summary>
    /// <exception cref="ObjectDisposedException">The eventfd is disposed.</exception>
    public void Signal(ulong count = 1)
    {
        var fd = Enter();
        try
        {
            var written = Add(fd, count);
            if (written != 8)
            {
                throw new VfioException("write(eventfd)", "interrupt", written < 0 ? (int)-written : Errno.EIO);
            }
        }
        finally
        {
            _fd.DangerousRelease();
        }
    }

    /// <summary>Waits until the counter is non-zero or <paramref name="timeout"/> passes; returns the
    /// count (how many signals were merged) and resets it, or 0 on timeout.</summary>
    /// <exception cref="ObjectDisposedException">The eventfd is disposed, before the call or while it
    /// waits (from another thread): the wait wakes up at once.</exception>
    public ulong Wait(TimeSpan timeout)
    {
        var ms = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 0, int.MaxValue);
        // Published before Enter's interlocked reference and its second look at _disposed; Dispose sets
        // _disposed, fences, then reads this: either this wait sees the Dispose, or Dispose signals.
        if (!_blockingWaits)
        {
            Volatile.Write(ref _blockingWaits, true);
        }

        // The reference keeps the descriptor open (Dispose defers the close to the last release), so the
        // number polled below is ours for the whole wait, never a closed one reused by someone else.
        var fd = Enter();
        try
        {
            Span<pollfd> fds = [new pollfd { fd = fd, events = (short)LibcConstants.POLLIN }];
            while (true)
            {
                // Dispose wakes us by signalling this very eventfd (no second descriptor in the poll set):
                // after it, the counter is not ours to read.
                var ready = _sys.Poll(fds, ms);
                if (_disposed)
                {
                    ThrowDisposed();
                }

                if (ready == -Errno.EINTR)
                {
                    continue;
                }

                if (ready < 0)
                {
                    throw new VfioException("poll(eventfd)", "interrupt", -ready);
                }

                if (ready == 0)
                {
                    return 0;
                }

                var count = Read(fd);
                if (count != 0)
                {
                    return count;
                }
            }
        }
        finally
        {
            _fd.DangerousRelease();
        }
    }

    /// <summary>Reads and resets the counter without waiting; 0 when nothing was signalled.</summary>
    /// <exception cref="ObjectDisposedException">The eventfd is disposed.</exception>
    public ulong TryRead()
    {
        var fd = Enter();
        try
        {
            return Read(fd);
        }
        finally
        {
            _fd.DangerousRelease();
        }
    }

    /// <summary>Waits without blocking the caller's thread; completes with the count, or throws
    /// <see cref="OperationCanceledException"/>, or <see cref="ObjectDisposedException"/> when the eventfd is
    /// disposed before or while it waits. The first call starts a waiter thread for this eventfd; later
    /// waits allocate nothing. One asynchronous wait may be pending at a time.</summary>
    public ValueTask<ulong> WaitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();

        // A count already there completes at once, on this thread. Once the waiter thread runs it
        // reports that itself: only when it parked (it saw the eventfd fire with no wait pending) can
        // a count be waiting; while it polls, a read here would find nothing and cost a system call.
        var waiter = Volatile.Read(ref _waiter);
        if (waiter is null || waiter.IsParked)
        {
            var immediate = TryRead();
            if (immediate != 0)
            {
                return new ValueTask<ulong>(immediate);
            }
        }

        return (waiter ?? StartWaiter()).WaitAsync(cancellationToken);
    }

    /// <summary>Under the lock Dispose takes, so a waiter is either seen (and stopped) by Dispose or never
    /// started: a thread started after Dispose would poll a closed descriptor and never complete.</summary>
    private AsyncWaiter StartWaiter()
    {
        lock (_waiterGate)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposing) != 0, this);
            return _waiter ??= new AsyncWaiter(_sys, this);
        }
    }

    /// <summary>Stops the waits in progress and closes the eventfd. A blocked <see cref="Wait"/> (on any
    /// thread) and a pending <see cref="WaitAsync"/> end with <see cref="ObjectDisposedException"/>; the
    /// descriptor is closed as soon as the last of them has left. Safe to call more than once and from
    /// several threads at a time.</summary>
    public void Dispose()
    {
        AsyncWaiter? waiter;
        lock (_waiterGate)
        {
            if (Interlocked.Exchange(ref _disposing, 1) != 0)
            {
                return;
            }

            waiter = _waiter;
        }

        // First the waiter thread (joined unless this is it): it reads the counter, and must not see
        // the Dispose signal below as an interrupt.
        waiter?.Dispose();

        var added = false;
        _fd.DangerousAddRef(ref added);
        try
        {
            _disposed = true;
            Interlocked.MemoryBarrier(); // seen by any Wait that the signal below wakes
            if (Volatile.Read(ref _blockingWaits))
            {
                // Wakes every thread blocked in Wait on this descriptor; the counter stays non-zero (nobody
                // reads it after _disposed), so a Wait that enters poll later returns at once too.
                _ = Add((int)_fd.DangerousGetHandle(), 1);
            }
        }
        finally
        {
            _fd.DangerousRelease();
        }

        _fd.Dispose(); // closes now, or when the last Wait in progress releases its reference
    }

    /// <summary>Takes a reference on the descriptor for one call (or for the life of the waiter thread)
    /// and returns its number; <see cref="Leave"/> gives it back.</summary>
    internal int Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            ThrowDisposed();
        }

        if (_disposed)
        {
            _fd.DangerousRelease();
            ThrowDisposed();
        }

        return (int)_fd.DangerousGetHandle();
    }

    internal void Leave() => _fd.DangerousRelease();

    /// <summary>Reads and resets the counter through a number taken with <see cref="Enter"/>.</summary>
    internal ulong Read(int fd)
    {
        Span<byte> value = stackalloc byte[8];
        var read = _sys.ReadNonBlocking(fd, value);
        if (_disposed)
        {
            // The read may have taken Dispose's wake-up from another waiter: put one back for it.
            if (read == 8)
            {
                _ = Add(fd, 1);
            }

            ThrowDisposed();
        }

        if (read == -Errno.EAGAIN)
        {
            return 0;
        }

        return read == 8
            ? System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(value)
            : throw new VfioException("read(eventfd)", "interrupt", read < 0 ? (int)-read : Errno.EIO);
    }

    private nint Add(int fd, ulong count)
    {
        Span<byte> value = stackalloc byte[8];
        System.Runtime.InteropServices.MemoryMarshal.Write(value, in count);
        return _sys.Write(fd, value);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowDisposed() => throw new ObjectDisposedException(nameof(EventFd));
}
