using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags)</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint sendmsg(int sockfd, msghdr* msg, int flags);

    /// <summary><c>sendmsg</c> of one data buffer with <paramref name="fds"/> attached as one
    /// <c>SCM_RIGHTS</c> message (none when empty). Returns the bytes sent, or -1 with the errno as the
    /// last P/Invoke error.</summary>
    public static nint sendmsg(int sockfd, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds, int flags)
    {
        var dataLength = fds.Length * sizeof(int);
        var space = fds.IsEmpty ? 0 : CMSG_SPACE(dataLength);
        // Zeroed: the padding after the descriptors is part of the message the kernel reads.
        Span<byte> control = stackalloc byte[space];
        control.Clear();
        if (!fds.IsEmpty)
        {
            MemoryMarshal.Write(control, new cmsghdr { cmsg_len = (nuint)CMSG_LEN(dataLength), cmsg_level = SocketConstants.SOL_SOCKET, cmsg_type = SocketConstants.SCM_RIGHTS });
            MemoryMarshal.AsBytes(fds).CopyTo(control[CMSG_LEN(0)..]);
        }

        fixed (byte* d = data)
        fixed (byte* c = control)
        {
            var iov = new iovec { iov_base = d, iov_len = (nuint)data.Length };
            var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = space == 0 ? null : c, msg_controllen = (nuint)space };
            return sendmsg(sockfd, &msg, flags);
        }
    }
}
