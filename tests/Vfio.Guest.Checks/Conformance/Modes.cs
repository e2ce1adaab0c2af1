using System.Runtime.InteropServices;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Dma;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>A device opened in one IOMMU mode: the selftests' FIXTURE_VARIANT. Disposing it closes the
/// device and its container or address space.</summary>
internal sealed class Session(VfioDevice device, IDmaSpace dma, IDisposable owner, uint ioasId) : IDisposable
{
    public VfioDevice Device { get; } = device;

    public IDmaSpace Dma { get; } = dma;

    /// <summary>The IOAS of an iommufd session (0 for a container).</summary>
    public uint IoasId { get; } = ioasId;

    public void Dispose() => owner.Dispose();
}

/// <summary>One of the selftests' IOMMU modes, with whether this guest can run it and why not.</summary>
internal sealed record IommuMode(string Name, string? NotApplicable, Func<string, Session>? Open)
{
    public static IReadOnlyList<IommuMode> For(string device)
    {
        // vfio_iommu_type1 has module parameters, so its /sys/module entry exists built in or loaded:
        // then /dev/vfio/vfio is the type1 container, and iommufd's compatibility container (which
        // CONFIG_IOMMUFD_VFIO_CONTAINER puts on the same node) cannot be in this kernel.
        var type1Container = Directory.Exists("/sys/module/vfio_iommu_type1");
        // Without VFIO's own container, a /dev/vfio/vfio in a kernel with iommufd is iommufd's compatibility
        // container (CONFIG_IOMMUFD_VFIO_CONTAINER: `rig run arm64-virt --kernel iommufd-compat`).
        var compatContainer = !type1Container && Directory.Exists("/sys/module/iommufd") && File.Exists("/dev/vfio/vfio");
        var compat = type1Container
            ? "not applicable: /dev/vfio/vfio is the type1 container (CONFIG_VFIO_CONTAINER); iommufd's compat container needs CONFIG_IOMMUFD_VFIO_CONTAINER, which excludes it in one kernel"
            : compatContainer ? null
            : "not applicable: no container in this kernel: neither vfio_iommu_type1 nor iommufd's compatibility container";
        var iommufd = Vfio.Platform.Iommufd.IommufdContext.IsAvailableFor(device)
            ? null
            : $"not applicable: {device} has no VFIO device cdev bound to /dev/iommu here (VFIO_DEVICE_CDEV and IOMMUFD came in Linux 6.6 and 6.2; this kernel is {Environment.OSVersion.Version})";
        return
        [
            Container("type1", VfioIommuType.Type1, type1Container),
            Container("type1v2", VfioIommuType.Type1v2, type1Container),
            new("iommufd", iommufd, iommufd is null ? OpenIommufd : null),
            Container("iommufd-compat-type1", VfioIommuType.Type1, compatContainer, compat),
            Container("iommufd-compat-type1v2", VfioIommuType.Type1v2, compatContainer, compat),
            new("noiommu", "not applicable: the device sits behind a real IOMMU (its own IOMMU group); no-IOMMU is the arm64 ZCU102 guest's mode", null),
        ];
    }

    private static IommuMode Container(string name, VfioIommuType type, bool present, string? absent = null) =>
        new(name, present ? null : absent ?? "not applicable: no type1 container in this kernel", present ? device =>
        {
            var container = VfioContainer.Open(new VfioContainerOptions { IommuType = type });
            try
            {
                var dev = container.OpenGroupOf(device).OpenDevice(device);
                return new Session(dev, container, container, 0);
            }
            catch
            {
                container.Dispose();
                throw;
            }
        }
        : null);

    private static Session OpenIommufd(string device)
    {
        var iommufd = Vfio.Platform.Iommufd.IommufdContext.Open();
        try
        {
            var space = iommufd.CreateAddressSpace();
            var dev = iommufd.OpenDevice(device, space);
            return new Session(dev, space, iommufd, space.Id);
        }
        catch
        {
            iommufd.Dispose();
            throw;
        }
    }
}

/// <summary>The kernel's own answer to an unmap, asked directly on the descriptor the library opened (the
/// selftests' oracle): how many bytes it unmapped, or its errno. Only for checks: the library's mapping
/// list does not know about these calls.</summary>
internal static class RawUnmap
{
    public static (int Errno, ulong Unmapped) Unmap(Session session, ulong iova, ulong length)
    {
        var iommufd = session.IoasId != 0;
        var fd = FindFd(iommufd ? "/dev/iommu" : "/dev/vfio/vfio");
        if (iommufd)
        {
            var unmap = new iommu_ioas_unmap { size = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<iommu_ioas_unmap>(), ioas_id = session.IoasId, iova = iova, length = length };
            var rc = Libc.ioctl(fd, IommufdUapi.IOMMU_IOAS_UNMAP, MemoryMarshal.AsBytes(new Span<iommu_ioas_unmap>(ref unmap)));
            return rc < 0 ? (Marshal.GetLastPInvokeError(), 0) : (0, unmap.length);
        }

        var dma = new vfio_iommu_type1_dma_unmap { argsz = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<vfio_iommu_type1_dma_unmap>(), iova = iova, size = length };
        var result = Libc.ioctl(fd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, MemoryMarshal.AsBytes(new Span<vfio_iommu_type1_dma_unmap>(ref dma)));
        return result < 0 ? (Marshal.GetLastPInvokeError(), 0) : (0, dma.size);
    }

    /// <summary>The one descriptor of this process open on <paramref name="node"/>; the cases keep one
    /// container or iommufd open at a time, so it is the session's.</summary>
    private static int FindFd(string node)
    {
        var found = new List<int>();
        foreach (var entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            if (new FileInfo(entry).LinkTarget == node)
            {
                found.Add(int.Parse(Path.GetFileName(entry), System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return found.Count == 1 ? found[0] : throw new InvalidOperationException($"{found.Count} descriptors open on {node}, expected 1");
    }
}
