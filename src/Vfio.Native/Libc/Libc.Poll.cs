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

    /// <summary><c>poll</c> for the interrupt path: returns the ready count, 0 on timeout, or <c>-errno</c>.
    /// Unlike <see cref="poll(Span{pollfd}, int)"/> it skips the runtime's last-error bookkeeping (clearing
    /// errno before the call, saving it after): errno is read only when the call failed, which is what that
    /// bookkeeping reads too, after the same transition back from native code.</summary>
    public static int poll_or_errno(Span<pollfd> fds, int timeout)
    {
        fixed (pollfd* p = fds)
        {
            var ready = PollNoLastError(p, (nuint)fds.Length, timeout);
            return ready < 0 ? -Marshal.GetLastSystemError() : ready;
        }
    }

    [LibraryImport(LibraryName, EntryPoint = "poll")]
    private static partial int PollNoLastError(pollfd* fds, nuint nfds, int timeout);
}
