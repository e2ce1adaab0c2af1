using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Dma;

/// <summary>Page-aligned anonymous memory for a device to read and write through the IOMMU. The
/// kernel pins its pages while it is mapped (<see cref="VfioContainer.MapDma"/>); the buffer cannot be
/// freed while a mapping uses it, because the device could still write there.</summary>
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

    private DmaBuffer(ISyscalls sys, nint address, long length, bool hugePages)
    {
        _sys = sys;
        _address = address;
        Length = length;
        HugePages = hugePages;
    }

    /// <summary>The process's virtual address of the buffer.</summary>
    public nint Address => _address != 0 ? _address : throw new ObjectDisposedException(nameof(DmaBuffer));

    /// <summary>Length in bytes: the requested size rounded up to the page size.</summary>
    public long Length { get; }

    /// <summary>Backed by huge pages (fewer IOMMU entries, needs reserved huge pages).</summary>
    public bool HugePages { get; }

    /// <summary>The buffer's bytes (buffers up to 2 GiB).</summary>
    public Span<byte> Span => NativeSpan.Create(Address, checked((int)Length));

    /// <summary>Allocates <paramref name="size"/> bytes (rounded up to whole pages), zeroed and populated.</summary>
    /// <param name="size">Bytes wanted.</param>
    /// <param name="hugePages">Use 2 MiB huge pages (MAP_HUGETLB); the system must have some reserved.</param>
    public static DmaBuffer Allocate(long size, bool hugePages = false) => Allocate(LinuxSyscalls.Instance, size, hugePages);

    internal static DmaBuffer Allocate(ISyscalls sys, long size, bool hugePages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        long page = hugePages ? 2 << 20 : Environment.SystemPageSize;
        var length = checked((size + page - 1) / page * page);
        var flags = LibcConstants.MAP_SHARED | LibcConstants.MAP_ANONYMOUS | LibcConstants.MAP_POPULATE | (hugePages ? LibcConstants.MAP_HUGETLB : 0);
        var address = sys.Mmap((nuint)length, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE, flags, -1, 0);
        if (address < 0)
        {
            throw new VfioException("mmap(DMA buffer)", $"{length} bytes", (int)-address,
                hugePages ? "Reserve huge pages first (echo N > /proc/sys/vm/nr_hugepages)." : null);
        }

        return new DmaBuffer(sys, address, length, hugePages);
    }

    internal void AddMapping() => Interlocked.Increment(ref _mappings);

    internal void RemoveMapping() => Interlocked.Decrement(ref _mappings);

    /// <summary>Frees the memory.</summary>
    /// <exception cref="InvalidOperationException">A DMA mapping still uses the buffer.</exception>
    public void Dispose()
    {
        if (_address == 0)
        {
            return;
        }

        if (Volatile.Read(ref _mappings) != 0)
        {
            throw new InvalidOperationException("The DMA buffer is still mapped for the device: dispose its DmaMapping first.");
        }

        _ = _sys.Munmap(_address, (nuint)Length);
        _address = 0;
    }
}
