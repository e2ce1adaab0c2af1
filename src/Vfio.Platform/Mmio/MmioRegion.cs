using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Mmio;

/// <summary>A device region for memory-mapped I/O: volatile 8/16/32/64-bit reads and writes with
/// bounds and alignment checks. The hot path is the check plus one load or store, no allocation.
/// When the kernel does not let a region be mmapped, the same calls go through pread/pwrite on the
/// device file.
/// <para>Threads: accesses may come from several threads at once. <see cref="Dispose"/> (and disposing
/// the device, which disposes its regions) must not overlap an access on another thread, nor run while
/// a <see cref="View"/> or <see cref="Span{T}"/> of the region is still used: the mapping is gone after
/// it, and such an access faults. Stop the threads that use the region first (a device's
/// <see cref="VfioDevice.ReleaseRequested"/> handler included), then dispose it, typically on the thread
/// that used it. The accessors pay for no guard against that race (see the remarks); Dispose itself may
/// be called more than once and from several threads at a time.</para></summary>
/// <remarks>Why no guard: making Dispose wait for accesses in flight needs every access to announce
/// itself (a reader count, an interlocked operation or at least a store and a fence per access), which
/// would cost the hot path more than the load or store it guards, and a <see cref="View"/> or
/// <see cref="Span{T}"/> hands out the address where no count can follow it.</remarks>
/// <example>
/// <code>
/// using var regs = device.MapRegion(0);
/// var status = regs.Read32(0x30);
/// regs.Write32(0x30, status); // write 1 to clear
/// </code>
/// </example>
public sealed class MmioRegion : IDisposable
{
    private readonly ISyscalls _sys;
    private readonly KernelFd? _file;
    private readonly long _fileOffset;
    private readonly KernelFd? _ownedFile;
    private readonly long _length;
    private readonly long _mappedLength;
    private unsafe byte* _base;

    // Sparse regions: mapped areas other than the one at offset 0 (which is the fast window at _base).
    // Accesses there take the slow path, which finds the area and does the load or store directly.
    private MappedArea[] _areas = [];

    // Slot counts per access width: the number of aligned positions of that width in the region, or 0 for
    // a region without a mapping (pread/pwrite) or a disposed one. The accessors rotate the offset right by
    // log2(width): a misaligned offset moves its low bits to the top and a negative one keeps its sign bit,
    // both become huge, and an aligned offset becomes its slot index. So one unsigned compare does the sign,
    // bounds, alignment and "is there a mapping" tests, and everything else goes to Slow.
    private ulong _slots8, _slots16, _slots32, _slots64;
    private nint _mapping;
    private int _disposed;

    // Set by Bind: a RegisterBlock holds the mapping's address where Dispose cannot revoke it, so Dispose
    // then leaves an inaccessible reservation in place of each mapping instead of unmapping it.
    private int _blocksBound;

    private readonly record struct MappedArea(long Offset, long Length, nint Mapping);

    private unsafe MmioRegion(ISyscalls sys, string name, long length, KernelFd? file, long fileOffset, nint mapping, KernelFd? ownedFile, long mappedLength = -1)
    {
        _sys = sys;
        Name = name;
        _length = length;
        _mappedLength = mapping == 0 ? 0 : mappedLength < 0 ? length : mappedLength;
        if (mapping != 0)
        {
            _slots8 = (ulong)_mappedLength;
            _slots16 = (ulong)_mappedLength >> 1;
            _slots32 = (ulong)_mappedLength >> 2;
            _slots64 = (ulong)_mappedLength >> 3;
        }
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

    /// <summary>True when accesses are direct loads and stores on a mapping (of the whole region, or for a
    /// sparse region of the area at offset 0); false when they go through pread/pwrite on the device file.</summary>
    public unsafe bool IsMapped => _base != null;

    /// <summary>The parts of the region that are mapped, as (offset, length). The whole region for an
    /// ordinary mappable region; for a sparse one (<c>VFIO_REGION_INFO_CAP_SPARSE_MMAP</c>, e.g. a PCI BAR
    /// with the MSI-X table carved out) each area the kernel let us map; empty when none is. Accesses
    /// outside them go through pread/pwrite, with the same API.</summary>
    public unsafe IReadOnlyList<(long Offset, long Length)> MappedAreas
    {
        get
        {
            var list = new List<(long, long)>();
            if (_base != null)
            {
                list.Add((0, _mappedLength));
            }

            list.AddRange(_areas.Select(a => (a.Offset, a.Length)));
            return list;
        }
    }

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
        else if (info.CanMmap && info.SparseAreas is { Count: > 0 } sparse)
        {
            return CreateSparse(sys, device, info, name, length, sparse);
        }

        return new MmioRegion(sys, name, length, device, checked((long)info.Offset), mapping: 0, ownedFile: null);
    }

    /// <summary>Maps each sparse area that lies inside the region; the one at offset 0 becomes the fast
    /// window. An area the kernel refuses to map is reached through pread/pwrite like the gaps.</summary>
    private static MmioRegion CreateSparse(ISyscalls sys, KernelFd device, VfioRegionInfo info, string name, long length, IReadOnlyList<VfioSparseArea> sparse)
    {
        var protection = (info.CanRead ? LibcConstants.PROT_READ : 0) | (info.CanWrite ? LibcConstants.PROT_WRITE : 0);
        var page = (ulong)Environment.SystemPageSize;
        var mapped = new List<MappedArea>();
        try
        {
            foreach (var area in sparse)
            {
                // Defensive: the kernel's areas are page-aligned and inside the region; skip any that is not.
                if (area.Size == 0 || area.Offset % page != 0 || area.Offset >= info.Size || area.Size > info.Size - area.Offset)
                {
                    continue;
                }

                var address = sys.Mmap((nuint)area.Size, protection, LibcConstants.MAP_SHARED, device.Fd, checked((long)(info.Offset + area.Offset)));
                if (address >= 0)
                {
                    mapped.Add(new MappedArea((long)area.Offset, (long)area.Size, address));
                }
            }
        }
        catch
        {
            foreach (var area in mapped)
            {
                _ = sys.Munmap(area.Mapping, (nuint)area.Length);
            }

            throw;
        }

        var window = mapped.FirstOrDefault(a => a.Offset == 0);
        var region = new MmioRegion(sys, name, length, device, checked((long)info.Offset), window.Mapping, ownedFile: null, mappedLength: window.Length)
        {
            _areas = [.. mapped.Where(a => a.Offset != 0).OrderBy(a => a.Offset)],
        };
        return region;
    }

    /// <summary>A region over anonymous shared memory (a memfd) of <paramref name="length"/> bytes: the same
    /// code path as a device region, for tests and benchmarks on machines without a device.</summary>
    /// <param name="length">Size in bytes.</param>
    /// <param name="mapped">False to exercise the pread/pwrite path instead of a mapping.</param>
    public static MmioRegion CreateShared(long length, bool mapped = true) => CreateShared(LinuxSyscalls.Instance, length, mapped);

    internal static MmioRegion CreateShared(ISyscalls sys, long length, bool mapped)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var fd = sys.MemfdCreate("vfio-net-mmio", LibcConstants.MFD_CLOEXEC);
        if (fd < 0)
        {
            throw new VfioException("memfd_create", "vfio-net-mmio", -fd);
        }

        var file = new KernelFd(sys, fd);
        try
        {
            var result = sys.Ftruncate(fd, length);
            if (result < 0)
            {
                throw new VfioException($"ftruncate({length})", "vfio-net-mmio", -result);
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
    public unsafe byte Read8(long offset)
    {
        var p = _base;
        return (ulong)offset >= _slots8 ? (byte)Slow(offset, 1, write: false, 0) : Volatile.Read(ref *(p + offset));
    }

    /// <summary>Reads 16 bits at <paramref name="offset"/> (2-byte aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe ushort Read16(long offset)
    {
        var p = _base;
        return BitOperations.RotateRight((ulong)offset, 1) >= _slots16
            ? (ushort)Slow(offset, 2, write: false, 0)
            : Volatile.Read(ref *(ushort*)(p + offset));
    }

    /// <summary>Reads 32 bits at <paramref name="offset"/> (4-byte aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe uint Read32(long offset)
    {
        var p = _base;
        return BitOperations.RotateRight((ulong)offset, 2) >= _slots32
            ? (uint)Slow(offset, 4, write: false, 0)
            : Volatile.Read(ref *(uint*)(p + offset));
    }

    /// <summary>Reads 64 bits at <paramref name="offset"/> (8-byte aligned) in one access. Many devices
    /// (SDHCI among them) want two 32-bit reads instead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe ulong Read64(long offset)
    {
        var p = _base;
        return BitOperations.RotateRight((ulong)offset, 3) >= _slots64
            ? Slow(offset, 8, write: false, 0)
            : Volatile.Read(ref *(ulong*)(p + offset));
    }

    /// <summary>Writes 8 bits at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Write8(long offset, byte value)
    {
        var p = _base;
        if ((ulong)offset >= _slots8)
        {
            _ = Slow(offset, 1, write: true, value);
            return;
        }

        Volatile.Write(ref *(p + offset), value);
    }

    /// <summary>Writes 16 bits at <paramref name="offset"/> (2-byte aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Write16(long offset, ushort value)
    {
        var p = _base;
        if (BitOperations.RotateRight((ulong)offset, 1) >= _slots16)
        {
            _ = Slow(offset, 2, write: true, value);
            return;
        }

        Volatile.Write(ref *(ushort*)(p + offset), value);
    }

    /// <summary>Writes 32 bits at <paramref name="offset"/> (4-byte aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Write32(long offset, uint value)
    {
        var p = _base;
        if (BitOperations.RotateRight((ulong)offset, 2) >= _slots32)
        {
            _ = Slow(offset, 4, write: true, value);
            return;
        }

        Volatile.Write(ref *(uint*)(p + offset), value);
    }

    /// <summary>Writes 64 bits at <paramref name="offset"/> (8-byte aligned) in one access.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Write64(long offset, ulong value)
    {
        var p = _base;
        if (BitOperations.RotateRight((ulong)offset, 3) >= _slots64)
        {
            _ = Slow(offset, 8, write: true, value);
            return;
        }

        Volatile.Write(ref *(ulong*)(p + offset), value);
    }

    /// <summary>Reads the 32-bit register at <paramref name="offset"/> <c>destination.Length</c> times, in
    /// order, one bus access each: the way to drain a data port (a FIFO behind one address). The offset
    /// is checked once.</summary>
    /// <param name="offset">Offset of the port (4-byte aligned).</param>
    /// <param name="destination">Receives the values read.</param>
    public unsafe void ReadRepeated32(long offset, Span<uint> destination)
    {
        var p = _base;
        if (BitOperations.RotateRight((ulong)offset, 2) >= _slots32)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = (uint)Slow(offset, 4, write: false, 0);
            }

            return;
        }

        var port = (uint*)(p + offset);
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = Volatile.Read(ref *port);
        }
    }

    /// <summary>Writes <paramref name="source"/> to the 32-bit register at <paramref name="offset"/>, one bus
    /// access per value, in order: the way to fill a data port. The offset is checked once.</summary>
    /// <param name="offset">Offset of the port (4-byte aligned).</param>
    /// <param name="source">The values to write.</param>
    public unsafe void WriteRepeated32(long offset, ReadOnlySpan<uint> source)
    {
        var p = _base;
        if (BitOperations.RotateRight((ulong)offset, 2) >= _slots32)
        {
            foreach (var value in source)
            {
                _ = Slow(offset, 4, write: true, value);
            }

            return;
        }

        var port = (uint*)(p + offset);
        foreach (var value in source)
        {
            Volatile.Write(ref *port, value);
        }
    }

    /// <summary>Reads a named 8-bit register of a block that starts at offset 0 of the region, with the
    /// region's per-access check (and pread when that part is not mapped). For the unchecked single load,
    /// bind the block once (<see cref="Bind{TBlock}"/>).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read<TBlock, TAccess>(Register8<TBlock, TAccess> register)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IReadable => Read8(register.Offset);

    /// <summary>Writes a named 8-bit register of a block that starts at offset 0 of the region, with the
    /// region's per-access check (and pwrite when that part is not mapped).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TBlock, TAccess>(Register8<TBlock, TAccess> register, byte value)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IWritable => Write8(register.Offset, value);

    /// <summary>Reads a named 16-bit register of a block that starts at offset 0 of the region, with the
    /// region's per-access check (and pread when that part is not mapped). For the unchecked single load,
    /// bind the block once (<see cref="Bind{TBlock}"/>).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read<TBlock, TAccess>(Register16<TBlock, TAccess> register)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IReadable => Read16(register.Offset);

    /// <summary>Writes a named 16-bit register of a block that starts at offset 0 of the region, with the
    /// region's per-access check (and pwrite when that part is not mapped).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TBlock, TAccess>(Register16<TBlock, TAccess> register, ushort value)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IWritable => Write16(register.Offset, value);

    /// <summary>Reads a named 32-bit register of a block that starts at offset 0 of the region, with the
    /// region's per-access check (and pread when that part is not mapped). For the unchecked single load,
    /// bind the block once (<see cref="Bind{TBlock}"/>).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read<TBlock, TAccess>(Register32<TBlock, TAccess> register)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IReadable => Read32(register.Offset);

    /// <summary>Writes a named 32-bit register of a block that starts at offset 0 of the region, with the
    /// region's per-access check (and pwrite when that part is not mapped).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TBlock, TAccess>(Register32<TBlock, TAccess> register, uint value)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IWritable => Write32(register.Offset, value);

    /// <summary>Reads a named 64-bit register of a block that starts at offset 0 of the region, with the
    /// region's per-access check (and pread when that part is not mapped). For the unchecked single load,
    /// bind the block once (<see cref="Bind{TBlock}"/>).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read<TBlock, TAccess>(Register64<TBlock, TAccess> register)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IReadable => Read64(register.Offset);

    /// <summary>Writes a named 64-bit register of a block that starts at offset 0 of the region, with the
    /// region's per-access check (and pwrite when that part is not mapped).</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TBlock, TAccess>(Register64<TBlock, TAccess> register, ulong value)
        where TBlock : struct, IRegisterBlock
        where TAccess : struct, Access.IWritable => Write64(register.Offset, value);

    /// <summary>Read-modify-write of a 32-bit read-write register of a block at offset 0, through the checked
    /// accessors: clears the bits of <paramref name="clear"/>, then sets those of <paramref name="set"/>. Two bus
    /// accesses; not atomic against the device.</summary>
    /// <typeparam name="TBlock">The register's block.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set.</param>
    /// <returns>The value written.</returns>
    public uint Modify<TBlock>(Register32<TBlock, Access.ReadWrite> register, uint clear, uint set)
        where TBlock : struct, IRegisterBlock
    {
        var value = (Read32(register.Offset) & ~clear) | set;
        Write32(register.Offset, value);
        return value;
    }

    /// <summary>
    /// Binds the register block <typeparamref name="TBlock"/> at <paramref name="offset"/>: checks once that
    /// the region is not disposed and that the block's <see cref="IRegisterBlock.Size"/> bytes from there lie
    /// inside the region, in mapped memory (the region's mapping, or one sparse mmap area), 8-byte aligned.
    /// Each named access of the returned block is then one volatile load or store with no check.
    /// </summary>
    /// <typeparam name="TBlock">The block.</typeparam>
    /// <param name="offset">Where the block starts in the region (0 for a device whose region is its block).</param>
    /// <returns>The bound block; it must not be used after the region is disposed (see <see cref="RegisterBlock{TBlock, TBus}"/>). Its
    /// <see cref="RegisterBlock{TBlock, TBus}.Bus"/> reaches the rest of the region from <paramref name="offset"/> with checked accesses (dumps).</returns>
    /// <exception cref="ObjectDisposedException">The region is disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The block does not fit the region, or <paramref name="offset"/> is
    /// not 8-byte aligned.</exception>
    /// <exception cref="VfioException">That part is not mapped (EOPNOTSUPP: the kernel lets it be reached by
    /// pread/pwrite only; use the region's <c>Read</c>/<c>Write</c> overloads, which take the same registers).</exception>
    public unsafe RegisterBlock<TBlock, MmioBus> Bind<TBlock>(long offset = 0)
        where TBlock : struct, IRegisterBlock
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var size = TBlock.Size;
        if (size <= 0 || offset < 0 || offset > _length - size)
            ThrowBind(TBlock.Name, size, offset, Errno.EFAULT);
        if ((offset & 7) != 0)
            ThrowBind(TBlock.Name, size, offset, Errno.EINVAL);
        if (_base != null && offset + size <= _mappedLength)
        {
            Volatile.Write(ref _blocksBound, 1);
            return new RegisterBlock<TBlock, MmioBus>(BusAt(offset, _base + offset, _mappedLength - offset));
        }

        foreach (var area in _areas)
        {
            if (offset >= area.Offset && offset + size <= area.Offset + area.Length)
            {
                Volatile.Write(ref _blocksBound, 1);
                return new RegisterBlock<TBlock, MmioBus>(BusAt(offset, (byte*)area.Mapping + (offset - area.Offset), area.Offset + area.Length - offset));
            }
        }

        ThrowBind(TBlock.Name, size, offset, Errno.EOPNOTSUPP);
        return default;
    }

    private unsafe MmioBus BusAt(long offset, byte* address, long mapped) => new(this, offset, address, (int)Math.Min(_length - offset, int.MaxValue), mapped);

    /// <summary>The errors of <see cref="Bind{TBlock}"/>, out of line.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBind(string block, int size, long offset, int errno) =>
        throw errno switch
        {
            // Caller mistakes: where the block was asked to go.
            Errno.EFAULT => new ArgumentOutOfRangeException(nameof(offset), offset,
                $"{Name}: Bind<{block}>: the block (0x{size:x} bytes) at offset 0x{offset:x} does not fit in the region of 0x{_length:x} bytes."),
            Errno.EINVAL => new ArgumentOutOfRangeException(nameof(offset), offset,
                $"{Name}: Bind<{block}>: offset 0x{offset:x} is not 8-byte aligned."),
            // The region's own make-up, as the kernel reported it (sparse mmap areas): not the caller's mistake.
            _ => new VfioException($"Bind<{block}>", Name, errno,
                $"0x{offset:x}..0x{offset + size:x} is not in mapped memory (the kernel lets this part be reached by pread/pwrite only); " +
                $"use the region's Read/Write overloads with the same registers (checked, a system call per access)."),
        };

    /// <summary>A view of the region for a hot loop: a <c>ref struct</c> holding the base address and the
    /// bounds in registers, so a loop of accesses does not reload them after every volatile access. Same
    /// checks and same API as the region. A view must not outlive the region: take it, use it, drop it
    /// (like a <see cref="Span{T}"/> over memory that is freed on <see cref="Dispose"/>).</summary>
    /// <returns>The view.</returns>
    /// <exception cref="ObjectDisposedException">The region is disposed.</exception>
    public unsafe MmioView View()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new MmioView(this, _base, _slots8, _slots16, _slots32, _slots64);
    }

    /// <summary>
    /// <paramref name="count"/> registers of <typeparamref name="T"/>'s width from <paramref name="offset"/>,
    /// as an array-like <see cref="MmioSpan{T}"/>: bounds and alignment are checked here, once; each
    /// access of the span is one volatile load or store. For register arrays and loops that must cost
    /// what C costs. Needs mapped memory: the part must lie inside the region's mapping (or one sparse
    /// mmap area).
    /// </summary>
    /// <typeparam name="T"><see cref="byte"/>, <see cref="ushort"/>, <see cref="uint"/> or <see cref="ulong"/>.</typeparam>
    /// <param name="offset">Byte offset of the first register, aligned to its width.</param>
    /// <param name="count">How many registers.</param>
    /// <returns>The span; it must not outlive the region.</returns>
    /// <exception cref="ObjectDisposedException">The region is disposed.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not one of the four register types.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Out of the region, or misaligned.</exception>
    /// <exception cref="VfioException">Not in mapped memory (EOPNOTSUPP).</exception>
    public unsafe MmioSpan<T> Span<T>(long offset, int count)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (typeof(T) != typeof(byte) && typeof(T) != typeof(ushort) && typeof(T) != typeof(uint) && typeof(T) != typeof(ulong))
            throw new NotSupportedException($"MMIO registers are byte, ushort, uint or ulong, not {typeof(T).Name}.");
        var width = sizeof(T);
        if (count < 0 || offset < 0 || offset > _length || (long)count * width > _length - offset)
            ThrowSpan(typeof(T), width, offset, count, Errno.EFAULT);
        if ((offset & (width - 1)) != 0)
            ThrowSpan(typeof(T), width, offset, count, Errno.EINVAL);

        var bytes = (long)count * width;
        if (_base != null && offset + bytes <= _mappedLength)
            return new MmioSpan<T>(new Span<T>(_base + offset, count));
        foreach (var area in _areas)
        {
            if (offset >= area.Offset && offset + bytes <= area.Offset + area.Length)
                return new MmioSpan<T>(new Span<T>((byte*)area.Mapping + (offset - area.Offset), count));
        }

        ThrowSpan(typeof(T), width, offset, count, Errno.EOPNOTSUPP);
        return default;
    }

    /// <summary>The errors of <see cref="Span{T}"/>, out of line: building the message allocates.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowSpan(Type type, int width, long offset, int count, int errno)
    {
        var end = offset + ((long)count * width);
        throw errno switch
        {
            Errno.EFAULT => new ArgumentOutOfRangeException(nameof(offset), offset,
                $"{Name}: Span<{type.Name}>: {count} registers of {width} bytes at offset 0x{offset:x} do not fit in the region of 0x{_length:x} bytes."),
            Errno.EINVAL => new ArgumentOutOfRangeException(nameof(offset), offset,
                $"{Name}: Span<{type.Name}>: offset 0x{offset:x} is not aligned to {width} bytes."),
            _ => new VfioException($"Span<{type.Name}>", Name, errno,
                $"0x{offset:x}..0x{end:x} is not in mapped memory (the kernel lets this part be reached by pread/pwrite only); use Read{width * 8}/Write{width * 8}."),
        };
    }

    /// <summary>Everything off the fast path: a disposed region, a bad offset, or a region that is
    /// reached through pread/pwrite. Kept out of line so the accessors stay small.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal unsafe ulong Slow(long offset, int width, bool write, ulong value)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (offset < 0 || offset > _length - width)
        {
            ThrowOutOfBounds(offset, width, write);
        }

        if ((offset & (width - 1)) != 0)
        {
            ThrowMisaligned(offset, width, write);
        }

        foreach (var area in _areas)
        {
            if (offset >= area.Offset && offset - area.Offset <= area.Length - width)
            {
                return Direct((byte*)area.Mapping + (offset - area.Offset), width, write, value);
            }
        }

        if (_base != null && offset <= _mappedLength - width)
        {
            return Direct(_base + offset, width, write, value); // a view taken before a failed fast test
        }

        Span<byte> bytes = stackalloc byte[8];
        if (write)
        {
            System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in value); // little-endian hosts: the low bytes first
        }

        var data = bytes[..width];
        // A reference for the call: pread/pwrite on a descriptor closed meanwhile could reach whatever file
        // reused its number. This path is a system call anyway; two interlocked operations are noise.
        var added = false;
        try
        {
            _file!.DangerousAddRef(ref added);
            return FileAccess((int)_file.DangerousGetHandle(), data, offset, width, write);
        }
        finally
        {
            if (added)
            {
                _file!.DangerousRelease();
            }
        }
    }

    private ulong FileAccess(int fd, Span<byte> data, long offset, int width, bool write)
    {
        if (write)
        {
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

    private static unsafe ulong Direct(byte* p, int width, bool write, ulong value)
    {
        if (write)
        {
            switch (width)
            {
                case 1: Volatile.Write(ref *p, (byte)value); break;
                case 2: Volatile.Write(ref *(ushort*)p, (ushort)value); break;
                case 4: Volatile.Write(ref *(uint*)p, (uint)value); break;
                default: Volatile.Write(ref *(ulong*)p, value); break;
            }

            return 0;
        }

        return width switch
        {
            1 => Volatile.Read(ref *p),
            2 => Volatile.Read(ref *(ushort*)p),
            4 => Volatile.Read(ref *(uint*)p),
            _ => Volatile.Read(ref *(ulong*)p),
        };
    }

    [DoesNotReturn]
    private void ThrowOutOfBounds(long offset, int width, bool write) =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset,
            $"{Name}: {(write ? "Write" : "Read")}{width * 8}: offset 0x{offset:x} ({width} bytes) is outside the region of 0x{_length:x} bytes.");

    [DoesNotReturn]
    private void ThrowMisaligned(long offset, int width, bool write) =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset,
            $"{Name}: {(write ? "Write" : "Read")}{width * 8}: offset 0x{offset:x} is not aligned to {width} bytes.");

    /// <summary>Unmaps one mapping. After a <see cref="Bind{TBlock}"/> the addresses stay reserved,
    /// inaccessible (PROT_NONE, no memory behind them): a bound block used after Dispose then faults at
    /// once instead of reaching whatever a later mmap put there (a DMA buffer, another device). The cost is
    /// the address range, never reused for the life of the process.</summary>
    private void Unmap(nint mapping, long length)
    {
        if (Volatile.Read(ref _blocksBound) != 0 && _sys.ReserveInaccessible(mapping, (nuint)length) == mapping)
        {
            return;
        }

        _ = _sys.Munmap(mapping, (nuint)length);
    }

    /// <summary>Unmaps the region. Later accesses throw <see cref="ObjectDisposedException"/>. Must not
    /// overlap an access from another thread (see the class's summary); safe to call again, and from
    /// several threads at once: one of them unmaps.</summary>
    public unsafe void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _slots8 = _slots16 = _slots32 = _slots64 = 0;
        _base = null;
        if (_mapping != 0)
        {
            Unmap(_mapping, _mappedLength);
            _mapping = 0;
        }

        foreach (var area in _areas)
        {
            Unmap(area.Mapping, area.Length);
        }

        _areas = [];

        _ownedFile?.Dispose();
    }
}
