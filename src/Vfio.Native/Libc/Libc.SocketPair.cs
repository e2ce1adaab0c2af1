using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>int socketpair(int domain, int type, int protocol, int sv[2])</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "socketpair", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* sv);

    /// <summary><c>socketpair</c> into a span of two.</summary>
    public static int socketpair(int domain, int type, int protocol, Span<int> sv)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sv.Length, 2, nameof(sv));
        fixed (int* p = sv)
        {
            return socketpair(domain, type, protocol, p);
        }
    }
}
