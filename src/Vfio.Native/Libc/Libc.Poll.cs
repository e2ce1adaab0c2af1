using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>int poll(struct pollfd *fds, nfds_t nfds, int timeout)</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "poll", SetLastError = true)]
    public static partial int poll(pollfd* fds, nuint nfds, int timeout);

    /// <summary><c>poll</c> over a span of <see cref="pollfd"/>.</summary>
    public static int poll(Span<pollfd> fds, int timeout)
    {
        fixed (pollfd* p = fds)
        {
            return poll(p, (nuint)fds.Length, timeout);
        }
    }
}
