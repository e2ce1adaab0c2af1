using System.Net.Sockets;
using System.Runtime.InteropServices;
using Vfio.Native;

namespace Vfio.Platform.Handover;

/// <summary>Descriptors over a Unix socket (<c>SCM_RIGHTS</c>). Straight to the C library, not through the
/// <see cref="Kernel.ISyscalls"/> seam: that seam stands in for the VFIO kernel, while this transport is
/// tested as it is, over a real socket pair with real descriptors.</summary>
internal static class UnixRights
{
    public const string Target = "handover socket";

    public static void Send(Socket socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                // Non-blocking whatever the Socket's mode (.NET may have made the descriptor non-blocking
                // for its own async calls anyway); poll does the waiting. MSG_NOSIGNAL: a gone receiver is
                // EPIPE, not a signal.
                var sent = Libc.sendmsg(fd, data, fds, SocketConstants.MSG_NOSIGNAL | SocketConstants.MSG_DONTWAIT);
                if (sent >= 0)
                {
                    if (sent != data.Length)
                    {
                        throw new VfioException("sendmsg", Target, Errno.EPROTO, $"Only {sent} of {data.Length} bytes went out; the receiver will reject the message.");
                    }

                    return;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EAGAIN)
                {
                    Wait(fd, LibcConstants.POLLOUT, "sendmsg", Timeout.Infinite);
                }
                else if (errno != Errno.EINTR)
                {
                    throw new VfioException("sendmsg", Target, errno, errno is Errno.EPIPE or Errno.ECONNRESET ? "The receiver closed the socket." : null);
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Receives one message; every descriptor that arrived is in <paramref name="fds"/>[..fdCount]
    /// for the caller to own, also when the message is bad. Returns the data length and <c>msg_flags</c>.</summary>
    public static (int Length, int Flags) Receive(Socket socket, Span<byte> data, Span<int> fds, out int fdCount, TimeSpan? timeout)
    {
        fdCount = 0;
        var deadline = timeout is { } t ? Environment.TickCount64 + (long)t.TotalMilliseconds : long.MaxValue;
        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                var left = deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue);
                Wait(fd, LibcConstants.POLLIN, "recvmsg", left);
                // MSG_CMSG_CLOEXEC: the descriptors are close-on-exec from the moment they exist in this
                // process, so a concurrent fork+exec cannot inherit the device.
                var received = Libc.recvmsg(fd, data, fds, SocketConstants.MSG_CMSG_CLOEXEC | SocketConstants.MSG_DONTWAIT, out fdCount, out var flags);
                if (received >= 0)
                {
                    return ((int)received, flags);
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno is not (Errno.EAGAIN or Errno.EINTR))
                {
                    throw new VfioException("recvmsg", Target, errno);
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static void Wait(int fd, int events, string operation, int timeoutMilliseconds)
    {
        Span<pollfd> fds = [new pollfd { fd = fd, events = (short)events }];
        int ready;
        while ((ready = Libc.poll(fds, timeoutMilliseconds)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new VfioException($"poll ({operation})", Target, errno);
            }
        }

        if (ready == 0)
        {
            throw new VfioException(operation, Target, Errno.ETIMEDOUT, $"Nothing arrived within {timeoutMilliseconds} ms.");
        }
    }
}
