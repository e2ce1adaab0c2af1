using System.Runtime.InteropServices;
using Vfio.Native;
using Vfio.Platform;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>vfio_dma_mapping_mmio_test: a BAR's mmap mapped into the IOMMU (peer-to-peer DMA's set-up), in
/// full, one page of it, and at a virtual address that is page-aligned but deliberately not 1 GiB-aligned.
/// The library has no call for it (a <see cref="Vfio.Platform.Dma.DmaBuffer"/> is anonymous memory, never a
/// BAR), so the case asks the kernel with raw ioctls on the descriptors the library opened: type1 pins the
/// BAR's pfns and accepts, iommufd pins pages only and refuses, which is what the selftest asserts.</summary>
internal static partial class ConformanceRun
{
    private const ulong MmioIova = 0x4000_0000; // inside every range both IOMMUs report, away from the cases' IOVAs
    private const long OneGiB = 1L << 30;

    private enum BarMapping
    {
        Full,
        Partial,
        Misaligned,
    }

    private static void MmioMappingCases(IommuMode mode)
    {
        Case("dma_mapping_mmio.map_full_bar", mode, s => MapBar(s, "dma_mapping_mmio.map_full_bar", mode, BarMapping.Full));
        Case("dma_mapping_mmio.map_partial_bar", mode, s => MapBar(s, "dma_mapping_mmio.map_partial_bar", mode, BarMapping.Partial));
        Case("dma_mapping_mmio.map_bar_misaligned", mode, s => MapBar(s, "dma_mapping_mmio.map_bar_misaligned", mode, BarMapping.Misaligned));
    }

    private static string MapBar(Session s, string name, IommuMode mode, BarMapping kind)
    {
        // The selftest's largest_mapped_bar: the largest BAR that is mmappable, readable and writable.
        var bar = Enumerable.Range(0, 6).Select(i => (Index: i, Info: s.Device.GetRegionInfo(i)))
            .Where(b => b.Info.Size > 0 && b.Info.CanMmap && b.Info.CanRead && b.Info.CanWrite)
            .OrderByDescending(b => b.Info.Size).FirstOrDefault();
        if (bar.Info is null)
        {
            return "skipped: no mmappable read/write BAR";
        }

        var page = Environment.SystemPageSize;
        if (kind == BarMapping.Partial && bar.Info.Size < 2 * (ulong)page)
        {
            return $"skipped: BAR{bar.Index} is smaller than two pages (0x{bar.Info.Size:x})";
        }

        var size = kind switch
        {
            BarMapping.Partial => (ulong)page,
            BarMapping.Misaligned => Math.Min(bar.Info.Size, (ulong)OneGiB),
            _ => bar.Info.Size,
        };
        var device = DeviceFd(s);
        var (address, reserved, reservation) = MmapBar(device, bar.Info, kind == BarMapping.Misaligned ? size : bar.Info.Size, kind == BarMapping.Misaligned);
        if (address == -1)
        {
            return $"FAIL: mmap of BAR{bar.Index} failed: {ErrnoNames.Of(Marshal.GetLastPInvokeError())}";
        }

        try
        {
            Detail(name, mode, "bar", FormattableString.Invariant($"BAR{bar.Index} 0x{bar.Info.Size:x}, mapping 0x{size:x} at vaddr % 1 GiB = 0x{address % OneGiB:x}"));
            var (map, unmap, unmapped) = s.IoasId != 0 ? IoasMapUnmap(s, address, size) : Type1MapUnmap(address, size);
            Detail(name, mode, "kernel", unmap is null ? $"map {map}, unmap 0x{unmapped:x} bytes" : $"map {map}, unmap {unmap}");
            // iommufd's compatibility container is iommufd underneath: the selftest expects it to refuse as
            // iommufd does ("Check for iommufd compat success once it lands"), and it does (EFAULT).
            if (s.IoasId == 0 && !mode.Name.StartsWith("iommufd-compat", StringComparison.Ordinal))
            {
                // type1 follows the BAR's pfns: the map is accepted and the unmap gives back the whole size.
                return map != "ok" ? $"FAIL: type1 refused the BAR mapping: {map}"
                    : unmapped != size ? $"FAIL: the unmap returned 0x{unmapped:x} of 0x{size:x} bytes" : "pass";
            }

            // iommufd pins struct pages only: a BAR (VM_PFNMAP) cannot be mapped, so there is nothing to unmap.
            return map == "ok" ? $"FAIL: {mode.Name} mapped the BAR (the selftest expects a refusal)" : $"refused {map}/{unmap ?? "no error"}";
        }
        finally
        {
            _ = Libc.munmap(reserved, reservation);
        }
    }

    /// <summary>Maps the BAR from the device descriptor: anywhere, or (misaligned) MAP_FIXED one page past a
    /// 1 GiB boundary inside a PROT_NONE reservation, as the selftest's mmap_reserve does. Returns the BAR's
    /// address and what to munmap afterwards.</summary>
    private static (nint Address, nint Reserved, nuint Reservation) MmapBar(int device, VfioRegionInfo info, ulong length, bool misaligned)
    {
        const int Prot = LibcConstants.PROT_READ | LibcConstants.PROT_WRITE;
        if (!misaligned)
        {
            var address = Libc.mmap(0, (nuint)length, Prot, LibcConstants.MAP_SHARED, device, (long)info.Offset);
            return (address, address == -1 ? 0 : address, (nuint)length);
        }

        var page = (nint)Environment.SystemPageSize;
        var reservation = (nuint)((long)length + OneGiB + page);
        var reserved = Libc.mmap(0, reservation, LibcConstants.PROT_NONE, LibcConstants.MAP_PRIVATE | LibcConstants.MAP_ANONYMOUS | LibcConstants.MAP_NORESERVE, -1, 0);
        if (reserved == -1)
        {
            return (-1, 0, 0);
        }

        var target = (nint)(((long)reserved + OneGiB - 1) & ~(OneGiB - 1)) + page;
        var bar = Libc.mmap(target, (nuint)length, Prot, LibcConstants.MAP_SHARED | LibcConstants.MAP_FIXED, device, (long)info.Offset);
        return (bar, reserved, reservation);
    }

    private static (string Map, string? Unmap, ulong Unmapped) Type1MapUnmap(nint address, ulong size)
    {
        var container = FindFdOf(l => l == "/dev/vfio/vfio", "/dev/vfio/vfio");
        var map = new vfio_iommu_type1_dma_map
        {
            argsz = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<vfio_iommu_type1_dma_map>(),
            flags = (uint)(VfioUapi.VFIO_DMA_MAP_FLAG_READ | VfioUapi.VFIO_DMA_MAP_FLAG_WRITE),
            vaddr = (ulong)address,
            iova = MmioIova,
            size = size,
        };
        var mapped = ErrnoOf(Libc.ioctl(container, VfioUapi.VFIO_IOMMU_MAP_DMA, MemoryMarshal.AsBytes(new Span<vfio_iommu_type1_dma_map>(ref map))));
        var unmap = new vfio_iommu_type1_dma_unmap { argsz = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<vfio_iommu_type1_dma_unmap>(), iova = MmioIova, size = size };
        var rc = Libc.ioctl(container, VfioUapi.VFIO_IOMMU_UNMAP_DMA, MemoryMarshal.AsBytes(new Span<vfio_iommu_type1_dma_unmap>(ref unmap)));
        return rc < 0 ? (mapped, ErrnoNames.Of(Marshal.GetLastPInvokeError()), 0) : (mapped, null, unmap.size);
    }

    private static (string Map, string? Unmap, ulong Unmapped) IoasMapUnmap(Session s, nint address, ulong size)
    {
        var iommufd = FindFdOf(l => l == "/dev/iommu", "/dev/iommu");
        var map = new iommu_ioas_map
        {
            size = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<iommu_ioas_map>(),
            flags = (uint)(iommufd_ioas_map_flags.IOMMU_IOAS_MAP_READABLE | iommufd_ioas_map_flags.IOMMU_IOAS_MAP_WRITEABLE | iommufd_ioas_map_flags.IOMMU_IOAS_MAP_FIXED_IOVA),
            ioas_id = s.IoasId,
            user_va = (ulong)address,
            length = size,
            iova = MmioIova,
        };
        var mapped = ErrnoOf(Libc.ioctl(iommufd, IommufdUapi.IOMMU_IOAS_MAP, MemoryMarshal.AsBytes(new Span<iommu_ioas_map>(ref map))));
        var (errno, unmapped) = RawUnmap.Unmap(s, MmioIova, size);
        return (mapped, errno == 0 ? null : ErrnoNames.Of(errno), unmapped);
    }

    /// <summary>The session's device descriptor: a VFIO device fd is an anonymous inode (group path) or the
    /// device's cdev (iommufd path); the cases keep one device open at a time.</summary>
    private static int DeviceFd(Session s) => s.IoasId != 0
        ? FindFdOf(l => l.StartsWith("/dev/vfio/devices/", StringComparison.Ordinal), "a VFIO device cdev")
        : FindFdOf(l => l == "anon_inode:[vfio-device]", "anon_inode:[vfio-device]");

    private static int FindFdOf(Func<string, bool> target, string what)
    {
        var found = Directory.GetFileSystemEntries("/proc/self/fd")
            .Where(e => new FileInfo(e).LinkTarget is { } link && target(link))
            .Select(e => int.Parse(Path.GetFileName(e), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return found.Count == 1 ? found[0] : throw new InvalidOperationException($"{found.Count} descriptors open on {what}, expected 1");
    }
}
