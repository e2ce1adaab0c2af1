using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags)</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint recvmsg(int sockfd, msghdr* msg, int flags);

    /// <summary><c>recvmsg</c> into one data buffer, with room for <c>fds.Length</c> descriptors of
    /// <c>SCM_RIGHTS</c> messages. Every descriptor the kernel installed is stored in <paramref name="fds"/>
    /// and counted in <paramref name="fdCount"/>, whatever else went wrong, so the caller can close them all.
    /// <paramref name="messageFlags"/> is the returned <c>msg_flags</c> (<c>MSG_CTRUNC</c>: more descriptors
    /// were sent than there was room for; the kernel dropped the rest). Returns the bytes received, 0 when
    /// the peer closed, or -1 with the errno as the last P/Invoke error.</summary>
    public static nint recvmsg(int sockfd, Span<byte> data, Span<int> fds, int flags, out int fdCount, out int messageFlags)
    {
        fdCount = 0;
        messageFlags = 0;
        var space = CMSG_SPACE(fds.Length * sizeof(int));
        // The length offered is CMSG_LEN, not CMSG_SPACE: the kernel installs as many descriptors as fit in
        // it (net/core/scm.c, scm_detach_fds), and CMSG_SPACE's alignment padding could take one more than
        // fds has room for, which would be installed in this process and never seen.
        var offered = fds.IsEmpty ? 0 : CMSG_LEN(fds.Length * sizeof(int));
        Span<byte> control = stackalloc byte[space];
        control.Clear();
        nint received;
        nuint filled;
        fixed (byte* d = data)
        fixed (byte* c = control)
        {
            var iov = new iovec { iov_base = d, iov_len = (nuint)data.Length };
            var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = offered == 0 ? null : c, msg_controllen = (nuint)offered };
            received = recvmsg(sockfd, &msg, flags);
            if (received < 0)
            {
                return received;
            }

            messageFlags = msg.msg_flags;
            filled = msg.msg_controllen;
        }

        // CMSG_FIRSTHDR / CMSG_NXTHDR over what the kernel filled; a message running past it is ignored,
        // as glibc's macros do.
        var header = CMSG_ALIGN(sizeof(cmsghdr));
        var offset = 0;
        var end = (int)Math.Min(filled, (nuint)offered);
        while (offset + header <= end)
        {
            var cmsg = MemoryMarshal.Read<cmsghdr>(control[offset..]);
            if (cmsg.cmsg_len < (nuint)header || cmsg.cmsg_len > (nuint)(end - offset))
            {
                break;
            }

            if (cmsg.cmsg_level == SocketConstants.SOL_SOCKET && cmsg.cmsg_type == SocketConstants.SCM_RIGHTS)
            {
                var count = ((int)cmsg.cmsg_len - header) / sizeof(int);
                var payload = MemoryMarshal.Cast<byte, int>(control.Slice(offset + header, count * sizeof(int)));
                foreach (var fd in payload)
                {
                    if (fdCount < fds.Length)
                    {
                        fds[fdCount++] = fd;
                    }
                }
            }

            offset += CMSG_ALIGN((int)cmsg.cmsg_len);
        }

        return received;
    }
}
