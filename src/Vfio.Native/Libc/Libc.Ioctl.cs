using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    // ioctl is variadic in C. On the Linux ABIs we target (x86_64 SysV, AArch64 AAPCS64) a variadic
    // integer or pointer argument travels exactly like a fixed one, so both forms below are exact.

    /// <summary><c>int ioctl(int fd, unsigned long request, void *argp)</c>: requests that take a pointer.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* argp);

    /// <summary><c>int ioctl(int fd, unsigned long request, unsigned long arg)</c>: requests that take an integer
    /// (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU) or nothing.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, nuint arg);

    /// <summary><c>ioctl</c> with a pointer to <paramref name="argument"/>: the struct (or array) the request reads and fills.</summary>
    public static int ioctl(int fd, nuint request, Span<byte> argument)
    {
        fixed (byte* p = argument)
        {
            return ioctl(fd, request, p);
        }
    }

    /// <summary><c>ioctl</c> with a pointer to <paramref name="argument"/>, a struct that holds at
    /// <paramref name="addressOffset"/> the address (a 64-bit <c>__aligned_u64</c>, as the uAPI declares user
    /// pointers) of <paramref name="buffer"/>, which the kernel reads or fills: both are pinned for the call and
    /// the address is written into <paramref name="argument"/> here, so callers need no pointer of their own.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="addressOffset"/> leaves no room for 8 bytes in <paramref name="argument"/>.</exception>
    public static int ioctl(int fd, nuint request, Span<byte> argument, int addressOffset, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(addressOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(addressOffset, argument.Length - sizeof(ulong));
        fixed (byte* p = argument)
        fixed (byte* target = buffer)
        {
            System.Runtime.CompilerServices.Unsafe.WriteUnaligned(p + addressOffset, (ulong)target);
            return ioctl(fd, request, p);
        }
    }
}
