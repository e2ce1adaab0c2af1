using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Mmio;

/// <summary>A device region for memory-mapped I/O: volatile 8/16/32/64-bit reads and writes with
/// bounds and alignment checks. The hot path is the check plus one load or store, no allocation.
/// When the kernel does not let a region be mmapped, the same calls go through pread/pwrite on the
/// device file. Not thread-safe against <see cref="Dispose"/>: do not dispose while accessing.</summary>
/// <example>
/// <code>
/// using var regs = device.MapRegion(0);
/// var status = regs.Read32(0x30);
/// regs.Write32(0x30, status); // write 1 to clear
/// </code>
/// </example>
public sealed unsafe class MmioRegion : IDisposable
{
    private readonly ISyscalls _sys;
    private readonly KernelFd? _file;
    private readonly long _fileOffset;
    private readonly KernelFd? _ownedFile;
    private readonly long _length;
    private readonly long _last16, _last32, _last64;
    private byte* _base;
    private nint _mapping;
    private bool _disposed;

    private MmioRegion(ISyscalls sys, string name, long length, KernelFd? file, long fileOffset, nint mapping, KernelFd? ownedFile)
    {
        _sys = sys;
        Name = name;
        _length = length;
        _last16 = length - 2;
        _last32 = length - 4;
        _last64 = length - 8;
        _file = file;
        _fileOffset = fileOffset;
        _mapping = mapping;
        _base = (byte*)mapping;
        _ownedFile = ownedFile;
    }

    /// <summary>What the region is, for messages ("ff170000.mmc region 0").</summary>
    public string Name { get; }

    /// <summary>Size in bytes.</summary>
    public long Length => _length;

    /// <summary>True when accesses are direct loads and stores on a mapping; false when they go
    /// through pread/pwrite on the device file.</summary>
    public bool IsMapped => _base != null;

    internal static MmioRegion Create(ISyscalls sys, KernelFd device, VfioRegionInfo info, string name)
    {
        var length = checked((long)info.Size);
        var wholeRegionMappable = info.CanMmap && (info.SparseAreas is null ||
            (info.SparseAreas.Count == 1 && info.SparseAreas[0].Offset == 0 && info.SparseAreas[0].Size >= info.Size));
        if (wholeRegionMappable)
        {
            var protection = (info.CanRead ? LibcConstants.PROT_READ : 0) | (info.CanWrite ? LibcConstants.PROT_WRITE : 0);
            var address = sys.Mmap((nuint)length, protection, LibcConstants.MAP_SHARED, device.Fd, checked((long)info.Offset));
            if (address >= 0)
            {
                return new MmioRegion(sys, name, length, device, checked((long)info.Offset), address, ownedFile: null);
            }

            // Fall through: the region is still reachable through the file.
        }

        return new MmioRegion(sys, name, length, device, checked((long)info.Offset), mapping: 0, ownedFile: null);
    }

    /// <summary>A region over anonymous shared memory (a memfd) of <paramref name="length"/> bytes: the same
    /// code path as a device region, for tests and benchmarks on machines without a device.</summary>
    /// <param name="length">Size in bytes.</param>
    /// <param name="mapped">False to exercise the pread/pwrite path instead of a mapping.</param>
    public static MmioRegion CreateShared(long length, bool mapped = true) => CreateShared(LinuxSyscalls.Instance, length, mapped);

    internal static MmioRegion CreateShared(ISyscalls sys, long length, bool mapped)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var fd = Libc.memfd_create("vfio-net-mmio", LibcConstants.MFD_CLOEXEC);
        if (fd < 0)
        {
            throw SystemCallException.FromLastError("memfd_create", "vfio-net-mmio");
        }

        var file = new KernelFd(sys, fd);
        try
        {
            if (Libc.ftruncate(fd, length) != 0)
            {
                throw SystemCallException.FromLastError("ftruncate", "vfio-net-mmio");
            }

            nint address = 0;
            if (mapped)
            {
                address = sys.Mmap((nuint)length, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE, LibcConstants.MAP_SHARED, fd, 0);
                if (address < 0)
                {
                    throw new VfioException("mmap", "vfio-net-mmio", (int)-address);
                }
            }

            return new MmioRegion(sys, $"shared memory ({length} bytes)", length, file, 0, address, ownedFile: file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads 8 bits at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read8(long offset)
    {
        var p = _base;
        if ((ulong)offset >= (ulong)_length || p == null)
        {
            return (byte)Slow(offset, 1, write: false, 0);
        }

        return Volatile.Read(ref *(p + offset));
    }

    /// <summary>Reads 16 bits at <paramref name="offset"/> (2-byte aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read16(long offset)
    {
        var p = _base;
        if (offset < 0 || offset > _last16 || (offset & 1) != 0 || p == null)
        {
            return (ushort)Slow(offset, 2, write: false, 0);
        }

        return Volatile.Read(ref *(ushort*)(p + offset));
    }

    /// <summary>Reads 32 bits at <paramref name="offset"/> (4-byte aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read32(long offset)
    {
        var p = _base;
        if (offset < 0 || offset > _last32 || (offset & 3) != 0 || p == null)
        {
            return (uint)Slow(offset, 4, write: false, 0);
        }

        return Volatile.Read(ref *(uint*)(p + offset));
    }

    /// <summary>Reads 64 bits at <paramref name="offset"/> (8-byte aligned) in one access. Many devices
    /// (SDHCI among them) want two 32-bit reads instead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read64(long offset)
    {
        var p = _base;
        if (offset < 0 || offset > _last64 || (offset & 7) != 0 || p == null)
        {
            return Slow(offset, 8, write: false, 0);
        }

        return Volatile.Read(ref *(ulong*)(p + offset));
    }

    /// <summary>Writes 8 bits at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write8(long offset, byte value)
    {
        var p = _base;
        if ((ulong)offset >= (ulong)_length || p == null)
        {
            Slow(offset, 1, write: true, value);
            return;
        }

        Volatile.Write(ref *(p + offset), value);
    }

    /// <summary>Writes 16 bits at <paramref name="offset"/> (2-byte aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write16(long offset, ushort value)
    {
        var p = _base;
        if (offset < 0 || offset > _last16 || (offset & 1) != 0 || p == null)
        {
            Slow(offset, 2, write: true, value);
            return;
        }

        Volatile.Write(ref *(ushort*)(p + offset), value);
    }

    /// <summary>Writes 32 bits at <paramref name="offset"/> (4-byte aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write32(long offset, uint value)
    {
        var p = _base;
        if (offset < 0 || offset > _last32 || (offset & 3) != 0 || p == null)
        {
            Slow(offset, 4, write: true, value);
            return;
        }

        Volatile.Write(ref *(uint*)(p + offset), value);
    }

    /// <summary>Writes 64 bits at <paramref name="offset"/> (8-byte aligned) in one access.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write64(long offset, ulong value)
    {
        var p = _base;
        if (offset < 0 || offset > _last64 || (offset & 7) != 0 || p == null)
        {
            Slow(offset, 8, write: true, value);
            return;
        }

        Volatile.Write(ref *(ulong*)(p + offset), value);
    }

    /// <summary>Everything off the fast path: a disposed region, a bad offset, or a region that is
    /// reached through pread/pwrite. Kept out of line so the accessors stay small.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong Slow(long offset, int width, bool write, ulong value)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || offset > _length - width)
        {
            ThrowOutOfBounds(offset, width, write);
        }

        if ((offset & (width - 1)) != 0)
        {
            ThrowMisaligned(offset, width, write);
        }

        Span<byte> bytes = stackalloc byte[8];
        var data = bytes[..width];
        var fd = _file!.Fd;
        if (write)
        {
            System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in value); // little-endian hosts: the low bytes first
            var written = _sys.Pwrite(fd, data, _fileOffset + offset);
            if (written != width)
            {
                throw new VfioException($"pwrite({width} bytes)", Name, written < 0 ? (int)-written : Errno.EIO, $"offset 0x{offset:x}");
            }

            return 0;
        }

        var read = _sys.Pread(fd, data, _fileOffset + offset);
        if (read != width)
        {
            throw new VfioException($"pread({width} bytes)", Name, read < 0 ? (int)-read : Errno.EIO, $"offset 0x{offset:x}");
        }

        return width switch
        {
            1 => data[0],
            2 => System.Runtime.InteropServices.MemoryMarshal.Read<ushort>(data),
            4 => System.Runtime.InteropServices.MemoryMarshal.Read<uint>(data),
            _ => System.Runtime.InteropServices.MemoryMarshal.Read<ulong>(data),
        };
    }

    [DoesNotReturn]
    private void ThrowOutOfBounds(long offset, int width, bool write) =>
        throw new VfioException(write ? $"Write{width * 8}" : $"Read{width * 8}", Name, Errno.EFAULT,
            $"Offset 0x{offset:x} ({width} bytes) is outside the region of 0x{_length:x} bytes.");

    [DoesNotReturn]
    private void ThrowMisaligned(long offset, int width, bool write) =>
        throw new VfioException(write ? $"Write{width * 8}" : $"Read{width * 8}", Name, Errno.EINVAL,
            $"Offset 0x{offset:x} is not aligned to {width} bytes.");

    /// <summary>Unmaps the region. Later accesses throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _base = null;
        if (_mapping != 0)
        {
            _ = _sys.Munmap(_mapping, (nuint)_length);
            _mapping = 0;
        }

        _ownedFile?.Dispose();
    }
}
