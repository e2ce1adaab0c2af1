using System.Runtime.InteropServices;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Tests;

/// <summary>A VFIO kernel for the handover tests whose descriptors are real: every node it "opens" is a
/// memfd named for its role (<c>vfio-container-TAG</c>), so the descriptors really travel over a socket,
/// arrive under new numbers, and are really closed. The VFIO ioctls are answered by the role the memfd's
/// name says, read back from /proc/self/fd; any other descriptor (a plain memfd, an eventfd) gets ENOTTY,
/// as from the real kernel.</summary>
internal sealed class HandoverKernel : ISyscalls
{
    public const uint IoasId = 5;

    public HandoverKernel(string tag) => Tag = tag;

    public string Tag { get; }

    /// <summary>"role request" for every ioctl, "close role" for every close, in order.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>What VFIO_GROUP_GET_STATUS reports.</summary>
    public uint GroupStatus { get; set; } = VfioUapi.VFIO_GROUP_FLAGS_VIABLE | VfioUapi.VFIO_GROUP_FLAGS_CONTAINER_SET;

    /// <summary>A memfd named for <paramref name="role"/>, with this kernel's tag.</summary>
    public int Node(string role)
    {
        var fd = Libc.memfd_create($"vfio-{role}-{Tag}", LibcConstants.MFD_CLOEXEC);
        return fd >= 0 ? fd : throw new InvalidOperationException("memfd_create failed");
    }

    /// <summary>How many descriptors of this process refer to a node of this kernel (any role).</summary>
    public int Held() => Directory.GetFileSystemEntries("/proc/self/fd").Count(link =>
    {
        try
        {
            return new FileInfo(link).LinkTarget?.Contains($"-{Tag} ", StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
            return false; // closed meanwhile
        }
    });

    public static string RoleOf(int fd)
    {
        var target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? "";
        var match = System.Text.RegularExpressions.Regex.Match(target, "^/memfd:vfio-([a-z]+)-");
        return match.Success ? match.Groups[1].Value : "other";
    }

    public int Open(string path, int flags) => path switch
    {
        "/dev/vfio/vfio" => Node("container"),
        "/dev/vfio/7" => Node("group"),
        "/dev/iommu" => Node("iommufd"),
        "/dev/vfio/devices/vfio3" => Node("cdev"),
        _ => -Errno.ENOENT,
    };

    public int Close(int fd)
    {
        Calls.Add($"close {RoleOf(fd)}");
        return Libc.close(fd) == 0 ? 0 : -Marshal.GetLastPInvokeError();
    }

    public int Ioctl(int fd, uint request, nuint argument) => Answer(fd, request, []);

    public int Ioctl(int fd, uint request, Span<byte> argument) => Answer(fd, request, argument);

    // The IOAS check asks for no ranges (the IOAS only has to exist), so the range array is not filled.
    public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer) => Answer(fd, request, argument);

    private int Answer(int fd, uint request, Span<byte> argument)
    {
        var role = RoleOf(fd);
        Calls.Add($"{role} {Name(role, request)}");
        switch (role, request)
        {
            case ("container", VfioUapi.VFIO_GET_API_VERSION):
                return VfioUapi.VFIO_API_VERSION;
            case ("container", VfioUapi.VFIO_CHECK_EXTENSION):
                return 1;
            case ("container", VfioUapi.VFIO_SET_IOMMU):
            case ("container", VfioUapi.VFIO_IOMMU_MAP_DMA):
            case ("container", VfioUapi.VFIO_IOMMU_UNMAP_DMA):
                return 0;
            case ("container", VfioUapi.VFIO_IOMMU_GET_INFO):
                var info = new vfio_iommu_type1_info { argsz = Structs.Size<vfio_iommu_type1_info>(), flags = VfioUapi.VFIO_IOMMU_INFO_PGSIZES, iova_pgsizes = 4096 };
                Structs.Bytes(ref info).CopyTo(argument);
                return 0;
            case ("group", VfioUapi.VFIO_GROUP_GET_STATUS):
                var status = new vfio_group_status { argsz = 8, flags = GroupStatus };
                Structs.Bytes(ref status).CopyTo(argument);
                return 0;
            case ("group", VfioUapi.VFIO_GROUP_SET_CONTAINER):
            case ("group", VfioUapi.VFIO_GROUP_UNSET_CONTAINER):
                return 0;
            case ("group", VfioUapi.VFIO_GROUP_GET_DEVICE_FD):
                return Node("device");
            case ("device" or "cdev", VfioUapi.VFIO_DEVICE_GET_INFO):
                var device = new vfio_device_info { argsz = 24, flags = VfioUapi.VFIO_DEVICE_FLAGS_PCI | VfioUapi.VFIO_DEVICE_FLAGS_RESET, num_regions = 9, num_irqs = 5 };
                Structs.Bytes(ref device).CopyTo(argument);
                return 0;
            case ("cdev", VfioUapi.VFIO_DEVICE_BIND_IOMMUFD):
            case ("cdev", VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT):
                return 0;
            case ("iommufd", IommufdUapi.IOMMU_IOAS_ALLOC):
                var alloc = new iommu_ioas_alloc { size = 12, out_ioas_id = IoasId };
                Structs.Bytes(ref alloc).CopyTo(argument);
                return 0;
            case ("iommufd", IommufdUapi.IOMMU_IOAS_IOVA_RANGES):
                // No ranges written (num_iovas 0): enough to say the IOAS exists.
                var ranges = Structs.Read<iommu_ioas_iova_ranges>(argument, 0);
                if (ranges.ioas_id != IoasId)
                {
                    return -Errno.ENOENT;
                }

                ranges.num_iovas = 0;
                Structs.Bytes(ref ranges).CopyTo(argument);
                return 0;
            case ("iommufd", IommufdUapi.IOMMU_DESTROY):
                return 0;
            default:
                return -Errno.ENOTTY;
        }
    }

    // By the role too: VFIO's ioctl numbers repeat across objects (VFIO_IOMMU_GET_INFO on a container is
    // VFIO_DEVICE_GET_PCI_HOT_RESET_INFO on a device).
    private static string Name(string role, uint request)
    {
        string[] prefixes = role switch
        {
            "container" => ["VFIO_GET_", "VFIO_CHECK_", "VFIO_SET_", "VFIO_IOMMU_"],
            "group" => ["VFIO_GROUP_"],
            "iommufd" => ["IOMMU_"],
            _ => ["VFIO_DEVICE_"],
        };
        return typeof(VfioUapi).GetFields().Concat(typeof(IommufdUapi).GetFields())
            .FirstOrDefault(f => f.IsLiteral && f.FieldType == typeof(uint) && (uint)f.GetRawConstantValue()! == request && prefixes.Any(p => f.Name.StartsWith(p, StringComparison.Ordinal)))?.Name
            ?? $"0x{request:x}";
    }

    public nint Mmap(nuint length, int protection, int flags, int fd, long offset) => throw new NotSupportedException();

    public int Munmap(nint address, nuint length) => throw new NotSupportedException();

    public int EventFd(uint initialValue, int flags) => throw new NotSupportedException();

    public nint ReadNonBlocking(int fd, Span<byte> buffer) => throw new NotSupportedException();

    public nint Write(int fd, ReadOnlySpan<byte> buffer) => throw new NotSupportedException();

    public nint Pread(int fd, Span<byte> buffer, long offset) => throw new NotSupportedException();

    public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset) => throw new NotSupportedException();

    public int Poll(Span<pollfd> fds, int timeoutMilliseconds) => throw new NotSupportedException();
}
