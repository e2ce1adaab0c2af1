using System.Buffers.Binary;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Dma;

/// <summary>DMA for a device in a no-IOMMU group, where nothing translates the device's addresses: the
/// device is given the buffer's <em>physical</em> address, read from <c>/proc/self/pagemap</c> (as DPDK
/// does in its "IOVA as PA" mode). Get it from <see cref="VfioDevice.PhysicalDmaSpace"/>; it exists only
/// for devices opened in no-IOMMU mode, which the caller already had to allow explicitly
/// (<see cref="VfioContainerOptions.AllowNoIommu"/>).</summary>
/// <remarks>
/// <para>What this needs, and why:</para>
/// <list type="bullet">
/// <item>Buffers of huge pages (<c>DmaBuffer.Allocate(size, hugePages: true)</c>, with pages reserved in
/// <c>/proc/sys/vm/nr_hugepages</c>): a huge page is physically contiguous, is never swapped out and is
/// not moved by memory compaction, so the address stays valid while the device uses it. Ordinary pages,
/// even locked ones, may be migrated by the kernel at any time; they are refused.</item>
/// <item><c>CAP_SYS_ADMIN</c>: the kernel shows page frame numbers in pagemap only to it.</item>
/// <item>A device whose bus addresses are the CPU's physical addresses (no <c>dma-ranges</c> offset) and
/// that is cache-coherent, or a caller that does the cache maintenance: true of QEMU's machines and PCs;
/// on a non-coherent SoC the CPU caches must be cleaned and invalidated around each transfer.</item>
/// </list>
/// <para>Nothing stops a misprogrammed device from writing anywhere in memory: that is what no-IOMMU mode
/// means. A read-only mapping is impossible for the same reason, and the address cannot be chosen.</para>
/// </remarks>
/// <example>
/// <code>
/// var space = device.PhysicalDmaSpace ?? throw new InvalidOperationException("behind an IOMMU: use device.DmaSpace");
/// using var buffer = DmaBuffer.Allocate(2 &lt;&lt; 20, hugePages: true);
/// using var mapping = space.MapDma(buffer);
/// regs.Write32(0x58, (uint)mapping.Iova); // SDHCI ADMA system address: the physical address
/// </code>
/// </example>
public sealed class PhysicalDmaSpace : IDmaSpace, IDmaUnmapper
{
    private const string Pagemap = "/proc/self/pagemap";
    private const ulong PresentBit = 1UL << 63;
    private const ulong FrameMask = (1UL << 55) - 1;
    private const ulong HugePageSize = 2 << 20;

    private readonly ISyscalls _sys;
    private readonly string _device;

    internal PhysicalDmaSpace(ISyscalls sys, string device)
    {
        _sys = sys;
        _device = device;
    }

    /// <summary>No IOMMU: every address is reachable; the granule is the huge page buffers must be made of.</summary>
    /// <returns>One range covering everything, page size 2 MiB.</returns>
    public VfioIommuInfo GetIommuInfo() => new(HugePageSize, [(0UL, ulong.MaxValue)], null);

    /// <summary>Pins nothing and maps nothing (there is no IOMMU): checks that <paramref name="buffer"/> is
    /// made of huge pages, reads the physical address of each of its pages, checks that they are
    /// contiguous, and returns a mapping whose <see cref="DmaMapping.Iova"/> is the physical address of
    /// the first byte.</summary>
    /// <param name="buffer">Memory allocated with <c>hugePages: true</c>.</param>
    /// <param name="iova">Must be null: without an IOMMU the device address is the physical address.</param>
    /// <param name="deviceWrites">Must be true: without an IOMMU nothing can stop the device writing.</param>
    /// <returns>The mapping; disposing it lets the buffer be freed.</returns>
    /// <exception cref="ArgumentException">An IOVA is given, <paramref name="deviceWrites"/> is false, or the
    /// buffer is not of huge pages: checked before pagemap is read.</exception>
    /// <exception cref="VfioException">Pagemap is unreadable or shows no frame numbers (no CAP_SYS_ADMIN), a
    /// page is absent, or the pages are not physically contiguous.</exception>
    public DmaMapping MapDma(DmaBuffer buffer, ulong? iova = null, bool deviceWrites = true)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        const string call = "map DMA by physical address (no-IOMMU)";
        if (iova is not null)
        {
            throw new ArgumentException($"{_device}: {call}: without an IOMMU the device address is the buffer's physical address; it cannot be chosen (pass no IOVA).", nameof(iova));
        }

        if (!deviceWrites)
        {
            throw new ArgumentException($"{_device}: {call}: without an IOMMU a mapping cannot be made read-only for the device.", nameof(deviceWrites));
        }

        if (!buffer.HugePages)
        {
            throw new ArgumentException(
                $"{_device}: {call}: the buffer must be of huge pages (DmaBuffer.Allocate(size, hugePages: true)): ordinary pages are neither physically contiguous nor kept in place by the kernel.",
                nameof(buffer));
        }

        var physical = PhysicalAddressOf(buffer, call);
        buffer.AddMapping();
        return new DmaMapping(this, buffer, physical, allocated: false);
    }

    void IDmaUnmapper.UnmapDma(DmaMapping mapping) => mapping.Buffer.RemoveMapping();

    private ulong PhysicalAddressOf(DmaBuffer buffer, string call)
    {
        var page = (ulong)Environment.SystemPageSize;
        var pages = checked((int)((ulong)buffer.Length / page));
        var entries = new byte[pages * sizeof(ulong)];
        var fd = _sys.Open(Pagemap, LibcConstants.O_RDONLY | LibcConstants.O_CLOEXEC);
        if (fd < 0)
        {
            throw new VfioException($"open({Pagemap})", _device, -fd);
        }

        using (var pagemap = new KernelFd(_sys, fd))
        {
            var offset = checked((long)((ulong)buffer.Address / page * sizeof(ulong)));
            for (var done = 0; done < entries.Length;)
            {
                var read = _sys.Pread(pagemap.Fd, entries.AsSpan(done), offset + done);
                if (read <= 0)
                {
                    throw new VfioException($"pread({Pagemap})", _device, read < 0 ? (int)-read : Errno.EIO);
                }

                done += (int)read;
            }
        }

        ulong first = 0;
        for (var i = 0; i < pages; i++)
        {
            var entry = BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(i * sizeof(ulong)));
            var frame = entry & FrameMask;
            if ((entry & PresentBit) == 0)
            {
                throw new VfioException(call, _device, Errno.EFAULT, $"Page {i} of the buffer is not in memory (pagemap entry 0x{entry:x16}).");
            }

            if (frame == 0)
            {
                throw new VfioException(call, _device, Errno.EPERM, $"{Pagemap} shows no page frame numbers: reading physical addresses needs CAP_SYS_ADMIN.");
            }

            if (i == 0)
            {
                first = frame;
            }
            else if (frame != first + (ulong)i)
            {
                throw new VfioException(call, _device, Errno.EINVAL,
                    $"The buffer is not physically contiguous: page {i} is at frame 0x{frame:x}, expected 0x{first + (ulong)i:x}. Use buffers of at most one huge page ({HugePageSize >> 20} MiB).");
            }
        }

        return first * page;
    }
}
