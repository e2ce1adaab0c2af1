#pragma warning disable CS8981 // lower-case type names are the C library's own

using System.Runtime.InteropServices;

namespace Vfio.Native;

// Hand-written, not generated: the generator ports fcntl.h/mman.h/eventfd.h/poll.h, and these three
// structs are all a descriptor handover needs from <sys/socket.h>. glibc's LP64 layout, which x86_64
// and arm64 share; tests/Vfio.Native.Tests (NativeLayout.HandWrittenTypes) holds every size, offset and
// constant against gcc on both architectures.

/// <summary><c>struct iovec</c> from <c>sys/uio.h</c>: one buffer of a scatter/gather list.</summary>
[NativeTypeName("struct iovec")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct iovec
{
    /// <summary>Start of the buffer.</summary>
    [NativeTypeName("void *")]
    public void* iov_base;

    /// <summary>Its length in bytes.</summary>
    [NativeTypeName("size_t")]
    public nuint iov_len;
}

/// <summary><c>struct msghdr</c> from <c>sys/socket.h</c>: the argument of <c>sendmsg</c> and <c>recvmsg</c>.</summary>
[NativeTypeName("struct msghdr")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct msghdr
{
    /// <summary>Peer address (unused on a connected socket).</summary>
    [NativeTypeName("void *")]
    public void* msg_name;

    /// <summary>Size of <see cref="msg_name"/>.</summary>
    [NativeTypeName("socklen_t")]
    public uint msg_namelen;

    /// <summary>The data buffers.</summary>
    [NativeTypeName("struct iovec *")]
    public iovec* msg_iov;

    /// <summary>Number of <see cref="msg_iov"/> entries.</summary>
    [NativeTypeName("size_t")]
    public nuint msg_iovlen;

    /// <summary>Ancillary data: a sequence of <see cref="cmsghdr"/>.</summary>
    [NativeTypeName("void *")]
    public void* msg_control;

    /// <summary>Size of <see cref="msg_control"/>; on return, how much the kernel filled.</summary>
    [NativeTypeName("size_t")]
    public nuint msg_controllen;

    /// <summary>On return from <c>recvmsg</c>: <c>MSG_TRUNC</c>, <c>MSG_CTRUNC</c>...</summary>
    [NativeTypeName("int")]
    public int msg_flags;
}

/// <summary><c>struct cmsghdr</c> from <c>sys/socket.h</c>: the header of one ancillary message; its data
/// follows at <see cref="Libc.CMSG_LEN"/>(0). The <c>CMSG_*</c> macros are methods of <see cref="Libc"/>.</summary>
[NativeTypeName("struct cmsghdr")]
[StructLayout(LayoutKind.Sequential)]
public struct cmsghdr
{
    /// <summary>Header plus data, in bytes (<see cref="Libc.CMSG_LEN"/>).</summary>
    [NativeTypeName("size_t")]
    public nuint cmsg_len;

    /// <summary>Protocol: <see cref="SocketConstants.SOL_SOCKET"/>.</summary>
    [NativeTypeName("int")]
    public int cmsg_level;

    /// <summary>Type: <see cref="SocketConstants.SCM_RIGHTS"/>.</summary>
    [NativeTypeName("int")]
    public int cmsg_type;
}

/// <summary>The <c>sys/socket.h</c> constants a descriptor handover uses (glibc names and values,
/// the same on x86_64 and arm64).</summary>
public static class SocketConstants
{
    /// <summary><c>AF_UNIX</c>.</summary>
    public const int AF_UNIX = 1;

    /// <summary><c>SOCK_STREAM</c>.</summary>
    public const int SOCK_STREAM = 1;

    /// <summary><c>SOCK_SEQPACKET</c>.</summary>
    public const int SOCK_SEQPACKET = 5;

    /// <summary><c>SOCK_CLOEXEC</c>.</summary>
    public const int SOCK_CLOEXEC = 0x80000;

    /// <summary><c>SOL_SOCKET</c>: the level of socket-layer ancillary messages.</summary>
    public const int SOL_SOCKET = 1;

    /// <summary><c>SCM_RIGHTS</c>: an ancillary message carrying file descriptors.</summary>
    public const int SCM_RIGHTS = 1;

    /// <summary><c>MSG_CTRUNC</c>: the control buffer was too small; descriptors that did not fit were dropped.</summary>
    public const int MSG_CTRUNC = 0x8;

    /// <summary><c>MSG_TRUNC</c>: the data was longer than the buffer.</summary>
    public const int MSG_TRUNC = 0x20;

    /// <summary><c>MSG_DONTWAIT</c>: do not block.</summary>
    public const int MSG_DONTWAIT = 0x40;

    /// <summary><c>MSG_NOSIGNAL</c>: a closed peer gives EPIPE, not SIGPIPE.</summary>
    public const int MSG_NOSIGNAL = 0x4000;

    /// <summary><c>MSG_CMSG_CLOEXEC</c>: received descriptors are close-on-exec from the start.</summary>
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
}
