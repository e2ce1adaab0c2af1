using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>MAP_FAILED</c>: <c>(void *) -1</c>, which the generator cannot express as a constant.</summary>
    public static readonly void* MAP_FAILED = (void*)-1;

    /// <summary><c>void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)</c> (64-bit off_t).</summary>
    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);

    /// <summary><c>int munmap(void *addr, size_t length)</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
    public static partial int munmap(void* addr, nuint length);

    /// <summary><c>mmap</c> with the address as a number, for callers that keep no pointers;
    /// returns <c>-1</c> (<see cref="MAP_FAILED"/>) on failure.</summary>
    public static nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset) =>
        (nint)mmap((void*)addr, length, prot, flags, fd, offset);

    /// <summary><c>munmap</c> with the address as a number.</summary>
    public static int munmap(nint addr, nuint length) => munmap((void*)addr, length);
}
