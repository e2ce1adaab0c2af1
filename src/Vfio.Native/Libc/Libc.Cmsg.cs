namespace Vfio.Native;

public static unsafe partial class Libc
{
    // The CMSG_* macros of <sys/socket.h> (glibc's definitions), for building and walking the control
    // buffer of sendmsg/recvmsg.

    /// <summary><c>CMSG_ALIGN</c>: rounds up to the alignment of <c>size_t</c>, as glibc does.</summary>
    public static int CMSG_ALIGN(int length) => (length + IntPtr.Size - 1) & ~(IntPtr.Size - 1);

    /// <summary><c>CMSG_LEN</c>: the <see cref="cmsghdr.cmsg_len"/> of a message with <paramref name="dataLength"/> bytes of data.</summary>
    public static int CMSG_LEN(int dataLength) => CMSG_ALIGN(sizeof(cmsghdr)) + dataLength;

    /// <summary><c>CMSG_SPACE</c>: the room a message with <paramref name="dataLength"/> bytes of data takes in a control buffer.</summary>
    public static int CMSG_SPACE(int dataLength) => CMSG_ALIGN(dataLength) + CMSG_ALIGN(sizeof(cmsghdr));
}
