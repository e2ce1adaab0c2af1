using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Dma;

/// <summary>Page-aligned anonymous memory for a device to read and write through the IOMMU. The
/// kernel pins its pages while it is mapped (<see cref="VfioContainer.MapDma"/>); the memory is not
/// freed while a mapping uses it, because the device could still write there: disposing the buffer
/// first defers the free to the last mapping's end.</summary>
/// <example>
/// <code>
/// using var buffer = DmaBuffer.Allocate(64 * 1024);
/// using var mapping = container.MapDma(buffer);
/// regs.Write32(0x00, (uint)mapping.Iova); // SDHCI SDMA address
/// </code>
/// </example>
public sealed class DmaBuffer : IDisposable
{
    private readonly ISyscalls _sys;
    private nint _address;
    private int _mappings;
    private int _disposeRequested;

    /// <summary>The huge page sizes <see cref="AllocateHugePages(long, long)"/> takes: 2 MiB and 1 GiB.</summary>
    public const long HugePage2M = 2L << 20, HugePage1G = 1L << 30;

    private DmaBuffer(ISyscalls sys, nint address, long length, long pageSize)
    {
        _sys = sys;
        _address = address;
        Length = length;
        PageSize = pageSize;
    }

    /// <summary>The process's virtual address of the buffer.</summary>
    /// <exception cref="ObjectDisposedException">The buffer is disposed (even if a mapping still keeps its
    /// memory, see <see cref="Dispose"/>).</exception>
    public nint Address
    {
        get
        {
            var address = Volatile.Read(ref _address);
            return address != 0 && Volatile.Read(ref _disposeRequested) == 0 ? address : throw new ObjectDisposedException(nameof(DmaBuffer));
        }
    }

    /// <summary>Length in bytes: the requested size rounded up to the page size.</summary>
    public long Length { get; }

    /// <summary>Backed by huge pages (fewer IOMMU entries, needs reserved huge pages).</summary>
    public bool HugePages => PageSize != Environment.SystemPageSize;

    /// <summary>The size of the pages behind the buffer: the system page size, or the huge page size
    /// (<see cref="HugePage2M"/>, <see cref="HugePage1G"/>).</summary>
    public long PageSize { get; }

    /// <summary>True while the memory exists: until <see cref="Dispose"/>, or after it until the last
    /// mapping that uses the buffer is gone.</summary>
    public bool IsAllocated => Volatile.Read(ref _address) != 0;

    /// <summary>The buffer's bytes (buffers up to 2 GiB).</summary>
    public Span<byte> Span => NativeSpan.UnsafeCreate(Address, checked((int)Length));

    /// <summary>Allocates <paramref name="size"/> bytes (rounded up to whole pages), zeroed and populated.</summary>
    /// <param name="size">Bytes wanted.</param>
    /// <param name="hugePages">Use 2 MiB huge pages (MAP_HUGETLB); the system must have some reserved.</param>
    public static DmaBuffer Allocate(long size, bool hugePages = false) => Allocate(LinuxSyscalls.Instance, size, hugePages);

    /// <summary>Allocates <paramref name="size"/> bytes (rounded up to whole huge pages) of huge pages of
    /// <paramref name="pageSize"/> bytes (MAP_HUGETLB with MAP_HUGE_2MB or MAP_HUGE_1GB), zeroed and
    /// populated. The kernel must have pages of that size reserved: 2 MiB ones in
    /// <c>/proc/sys/vm/nr_hugepages</c>, 1 GiB ones usually at boot (<c>hugepagesz=1G hugepages=N</c>).</summary>
    /// <param name="size">Bytes wanted.</param>
    /// <param name="pageSize"><see cref="HugePage2M"/> or <see cref="HugePage1G"/>.</param>
    public static DmaBuffer AllocateHugePages(long size, long pageSize) => Allocate(LinuxSyscalls.Instance, size, pageSize);

    internal static DmaBuffer Allocate(ISyscalls sys, long size, bool hugePages) => Allocate(sys, size, hugePages ? HugePage2M : Environment.SystemPageSize);

    internal static DmaBuffer Allocate(ISyscalls sys, long size, long pageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        var huge = pageSize switch
        {
            HugePage2M => LibcConstants.MAP_HUGETLB | (21 << LibcConstants.MAP_HUGE_SHIFT),
            HugePage1G => LibcConstants.MAP_HUGETLB | (30 << LibcConstants.MAP_HUGE_SHIFT),
            _ when pageSize == Environment.SystemPageSize => 0,
            _ => throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "A DMA buffer's huge pages are 2 MiB (DmaBuffer.HugePage2M) or 1 GiB (DmaBuffer.HugePage1G)."),
        };
        var length = checked((size + pageSize - 1) / pageSize * pageSize);
        var flags = LibcConstants.MAP_SHARED | LibcConstants.MAP_ANONYMOUS | LibcConstants.MAP_POPULATE | huge;
        var address = sys.Mmap((nuint)length, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE, flags, -1, 0);
        if (address < 0)
        {
            throw new VfioException("mmap(DMA buffer)", $"{length} bytes", (int)-address, pageSize switch
            {
                HugePage2M => "Reserve huge pages first (echo N > /proc/sys/vm/nr_hugepages).",
                HugePage1G => "Reserve 1 GiB huge pages first (boot with hugepagesz=1G hugepages=N, or echo N > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages).",
                _ => null,
            });
        }

        return new DmaBuffer(sys, address, length, pageSize);
    }

    internal void AddMapping() => Interlocked.Increment(ref _mappings);

    /// <summary>A mapping is gone (unmapped, or dropped with its container or address space): the last one
    /// frees the memory of a buffer disposed meanwhile.</summary>
    internal void RemoveMapping()
    {
        // Interlocked on both sides (here and in Dispose): of a Dispose and the last RemoveMapping running
        // together, at least one sees the other's write, and Free lets only one of them unmap.
        if (Interlocked.Decrement(ref _mappings) == 0 && Volatile.Read(ref _disposeRequested) != 0)
        {
            Free();
        }
    }

    /// <summary>Frees the memory, or, while a DMA mapping still uses the buffer (the device could still
    /// write there), marks it to be freed when the last such mapping is disposed (or dropped with its
    /// container or address space). Never throws; <see cref="IsAllocated"/> says whether the memory is
    /// gone yet. Either way the buffer is unusable from here: <see cref="Address"/> and
    /// <see cref="Span"/> throw <see cref="ObjectDisposedException"/>, and it cannot be mapped again.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposeRequested, 1) != 0)
        {
            return;
        }

        if (Volatile.Read(ref _mappings) == 0)
        {
            Free();
        }
    }

    private void Free()
    {
        var address = Interlocked.Exchange(ref _address, 0);
        if (address != 0)
        {
            // munmap of our own whole mapping fails only for arguments we never pass; nothing to do then.
            _ = _sys.Munmap(address, (nuint)Length);
        }
    }
}
