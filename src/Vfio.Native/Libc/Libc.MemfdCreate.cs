using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>int memfd_create(const char *name, unsigned int flags)</c>: anonymous shared memory with an fd,
    /// used to stand in for a device region where no device exists (host tests, benchmarks).</summary>
    [LibraryImport(LibraryName, EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int memfd_create(string name, uint flags);

    /// <summary><c>int ftruncate(int fd, off_t length)</c> (64-bit off_t).</summary>
    [LibraryImport(LibraryName, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);
}
