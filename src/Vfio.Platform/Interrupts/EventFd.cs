using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Interrupts;

/// <summary>A Linux eventfd: the kernel's way to tell userspace that an interrupt fired. Waiting is a
/// poll plus an 8-byte read, with no allocation.</summary>
public sealed class EventFd : IDisposable
{
    private readonly ISyscalls _sys;
    private readonly KernelFd _fd;
    private AsyncWaiter? _waiter;

    private EventFd(ISyscalls sys, KernelFd fd)
    {
        _sys = sys;
        _fd = fd;
    }

    /// <summary>The descriptor number, for handing to the kernel.</summary>
    public int Fd => _fd.Fd;

    /// <summary>Creates a non-blocking, close-on-exec eventfd.</summary>
    public static EventFd Create() => Create(LinuxSyscalls.Instance);

    internal static EventFd Create(ISyscalls sys)
    {
        var fd = sys.EventFd(0, LibcConstants.EFD_CLOEXEC | LibcConstants.EFD_NONBLOCK);
        return fd < 0 ? throw new VfioException("eventfd", "interrupt", -fd) : new EventFd(sys, new KernelFd(sys, fd));
    }

    /// <summary>Adds <paramref name="count"/> to the counter, waking a waiter (what the kernel does when the IRQ fires).</summary>
    public void Signal(ulong count = 1)
    {
        Span<byte> value = stackalloc byte[8];
        System.Runtime.InteropServices.MemoryMarshal.Write(value, in count);
        var written = _sys.Write(_fd.Fd, value);
        if (written != 8)
        {
            throw new VfioException("write(eventfd)", "interrupt", written < 0 ? (int)-written : Errno.EIO);
        }
    }

    /// <summary>Waits until the counter is non-zero or <paramref name="timeout"/> passes; returns the
    /// count (how many signals were merged) and resets it, or 0 on timeout.</summary>
    public ulong Wait(TimeSpan timeout)
    {
        var ms = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 0, int.MaxValue);
        Span<pollfd> fds = [new pollfd { fd = _fd.Fd, events = (short)LibcConstants.POLLIN }];
        while (true)
        {
            var ready = _sys.Poll(fds, ms);
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

            var count = TryRead();
            if (count != 0)
            {
                return count;
            }
        }
    }

    /// <summary>Reads and resets the counter without waiting; 0 when nothing was signalled.</summary>
    public ulong TryRead()
    {
        Span<byte> value = stackalloc byte[8];
        var read = _sys.ReadNonBlocking(_fd.Fd, value);
        if (read == -Errno.EAGAIN)
        {
            return 0;
        }

        return read == 8
            ? System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(value)
            : throw new VfioException("read(eventfd)", "interrupt", read < 0 ? (int)-read : Errno.EIO);
    }

    /// <summary>Waits without blocking the caller's thread; completes with the count, or throws
    /// <see cref="OperationCanceledException"/>. The first call starts a waiter thread for this eventfd;
    /// later waits allocate nothing. One asynchronous wait may be pending at a time.</summary>
    public ValueTask<ulong> WaitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        cancellationToken.ThrowIfCancellationRequested();

        // A count already there completes at once, on this thread. Once the waiter thread runs it
        // reports that itself: only when it parked (it saw the eventfd fire with no wait pending) can
        // a count be waiting; while it polls, a read here would find nothing and cost a system call.
        if (_waiter is null || _waiter.IsParked)
        {
            var immediate = TryRead();
            if (immediate != 0)
            {
                return new ValueTask<ulong>(immediate);
            }
        }

        _waiter ??= new AsyncWaiter(_sys, this);
        return _waiter.WaitAsync(cancellationToken);
    }

    /// <summary>Stops a pending asynchronous wait and closes the eventfd.</summary>
    public void Dispose()
    {
        _waiter?.Dispose();
        _fd.Dispose();
    }
}
