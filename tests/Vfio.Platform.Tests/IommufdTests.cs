using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The iommufd back-end over the syscall seam: the ioctl sequence, the arguments the kernel sees,
/// dispose order, and that every error path closes what it opened. (Real kernels: the arm64-virt guest.)</summary>
[Collection(nameof(DescriptorLeakTests))]
public sealed class IommufdTests : IDisposable
{
    private const int IommuFd = 200, CdevFd = 201, EventFd = 202;
    private const uint IoasId = 5;
    private const string Device = "0000:00:01.0";

    private readonly string _sysfs = Directory.CreateTempSubdirectory("vfio-net-iommufd-").FullName;
    private readonly FakeSyscalls _sys = new();
    private readonly List<string> _calls = [];
    private int _open;

    public IommufdTests()
    {
        Directory.CreateDirectory(Path.Combine(_sysfs, "bus/pci/devices", Device, "vfio-dev/vfio3"));
        File.WriteAllText(Path.Combine(_sysfs, "bus/pci/devices", Device, "vfio-dev/vfio3/dev"), "237:3\n");
        // A no-IOMMU device: a vfioN entry without a cdev.
        Directory.CreateDirectory(Path.Combine(_sysfs, "bus/platform/devices/ff170000.mmc/vfio-dev/vfio0"));
        _sys.OnOpen("/dev/iommu", () => Opened(IommuFd, "open /dev/iommu"));
        _sys.OnOpen("/dev/vfio/devices/vfio3", () => Opened(CdevFd, "open vfio3"));
        _sys.OnClose(fd =>
        {
            _open--;
            _calls.Add($"close {fd}");
            return 0;
        });
        _sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_ALLOC, argument =>
        {
            var alloc = new iommu_ioas_alloc { size = 12, out_ioas_id = IoasId };
            Structs.Bytes(ref alloc).CopyTo(argument);
            _calls.Add("IOAS_ALLOC");
            return 0;
        });
        _sys.OnIoctl(CdevFd, VfioUapi.VFIO_DEVICE_BIND_IOMMUFD, argument =>
        {
            _calls.Add($"BIND iommufd={Structs.Read<vfio_device_bind_iommufd>(argument, 0).iommufd}");
            return 0;
        });
        _sys.OnIoctl(CdevFd, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, argument =>
        {
            _calls.Add($"ATTACH pt={Structs.Read<vfio_device_attach_iommufd_pt>(argument, 0).pt_id}");
            return 0;
        });
        _sys.OnIoctl(CdevFd, VfioUapi.VFIO_DEVICE_GET_INFO, argument =>
        {
            var info = new vfio_device_info { argsz = 24, flags = VfioUapi.VFIO_DEVICE_FLAGS_PCI, num_regions = 9, num_irqs = 5 };
            Structs.Bytes(ref info).CopyTo(argument);
            return 0;
        });
        _sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_DESTROY, argument =>
        {
            _calls.Add($"DESTROY {Structs.Read<iommu_destroy>(argument, 0).id}");
            return 0;
        });
    }

    public void Dispose() => Directory.Delete(_sysfs, recursive: true);

    private Iommufd.IommufdContext Open() =>
        Iommufd.IommufdContext.Open(_sys, new IommufdOptions { SysfsRoot = _sysfs });

    [Fact]
    public void A_device_is_bound_attached_and_closed_before_its_address_space_and_the_iommufd()
    {
        var iommufd = Open();
        var device = iommufd.OpenDevice(Device);

        Assert.True(device.IsPci);
        Assert.Null(device.Group);
        var space = Assert.IsType<IoAddressSpace>(device.DmaSpace);
        Assert.Equal(IoasId, space.Id);
        Assert.Same(device, Assert.Single(space.Devices));

        iommufd.Dispose();

        Assert.Equal(
            ["open /dev/iommu", "IOAS_ALLOC", "open vfio3", $"BIND iommufd={IommuFd}", $"ATTACH pt={IoasId}",
             $"close {CdevFd}", $"DESTROY {IoasId}", $"close {IommuFd}"],
            _calls);
        Assert.Equal(0, _open);
        Assert.Throws<ObjectDisposedException>(() => iommufd.OpenDevice(Device));
    }

    [Fact]
    public void A_device_moves_to_another_address_space_of_its_iommufd_in_one_attach()
    {
        var ids = new Queue<uint>([5, 6]);
        _sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_ALLOC, argument =>
        {
            var alloc = new iommu_ioas_alloc { size = 12, out_ioas_id = ids.Dequeue() };
            Structs.Bytes(ref alloc).CopyTo(argument);
            return 0;
        });
        using var iommufd = Open();
        var first = iommufd.CreateAddressSpace();
        var second = iommufd.CreateAddressSpace();
        var device = iommufd.OpenDevice(Device, first);
        _calls.Clear();

        second.Attach(device);
        second.Attach(device); // already there: nothing asked

        Assert.Equal(["ATTACH pt=6"], _calls); // no detach first: the kernel replaces the page table
        Assert.Same(second, device.DmaSpace);
        Assert.Empty(first.Devices);
        Assert.Same(device, Assert.Single(second.Devices));
        first.Dispose(); // the old space goes; the device stays open in the new one
        Assert.Equal(2, _open);
        second.Dispose();
        Assert.Equal(1, _open);
    }

    [Fact]
    public void A_device_of_another_iommufd_or_a_closed_one_cannot_move_and_the_kernel_is_not_asked()
    {
        using var iommufd = Open();
        using var other = Open();
        var target = other.CreateAddressSpace();
        var device = iommufd.OpenDevice(Device);
        _calls.Clear();

        var foreign = Assert.Throws<ArgumentException>(() => target.Attach(device));
        device.Dispose();
        var closed = Assert.Throws<ArgumentException>(() => iommufd.CreateAddressSpace().Attach(device));
        target.Dispose();

        Assert.Contains(Device, foreign.Message, StringComparison.Ordinal);
        Assert.Contains("only a device from this iommufd's OpenDevice", foreign.Message, StringComparison.Ordinal);
        Assert.Contains("closed", closed.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => target.Attach(device));
        Assert.DoesNotContain(_calls, c => c.StartsWith("ATTACH", StringComparison.Ordinal));
    }

    [Fact]
    public void A_refused_move_leaves_the_device_where_it_was()
    {
        using var iommufd = Open();
        var first = iommufd.CreateAddressSpace();
        var second = iommufd.CreateAddressSpace();
        var device = iommufd.OpenDevice(Device, first);
        _sys.OnIoctl(CdevFd, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, -Errno.EINVAL);

        var error = Assert.Throws<VfioException>(() => second.Attach(device));

        Assert.Equal("EINVAL", error.ErrnoName);
        Assert.Contains("stays attached to IOAS", error.Message, StringComparison.Ordinal);
        Assert.Same(first, device.DmaSpace);
        Assert.Same(device, Assert.Single(first.Devices));
        Assert.Empty(second.Devices);
    }

    [Fact]
    public void A_missing_dev_iommu_says_the_kernel_has_no_iommufd()
    {
        _sys.OnOpen("/dev/iommu", -Errno.ENOENT);

        var error = Assert.Throws<VfioException>(Open);

        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Contains("CONFIG_IOMMUFD", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_without_a_cdev_is_refused_with_advice_and_nothing_opened()
    {
        using var iommufd = Open();

        var error = Assert.Throws<VfioException>(() => iommufd.OpenDevice("0000:00:09.0"));

        Assert.Equal("ENODEV", error.ErrnoName);
        Assert.Contains("bind it to vfio-platform or vfio-pci", error.Message, StringComparison.Ordinal);
        Assert.False(Iommufd.IommufdContext.IsAvailableFor("0000:00:09.0", new IommufdOptions { SysfsRoot = _sysfs, IommufdPath = "/dev/null" }));
        Assert.True(Iommufd.IommufdContext.IsAvailableFor(Device, new IommufdOptions { SysfsRoot = _sysfs, IommufdPath = "/dev/null" }));
        Assert.Throws<VfioException>(() => iommufd.OpenDevice("ff170000.mmc")); // no-IOMMU: a vfioN entry but no cdev
        Assert.Equal(1, _open);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_refused_bind_or_attach_closes_the_cdev(bool failBind)
    {
        var request = failBind ? VfioUapi.VFIO_DEVICE_BIND_IOMMUFD : VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT;
        _sys.OnIoctl(CdevFd, request, failBind ? -Errno.EBUSY : -Errno.EINVAL);
        using (var iommufd = Open())
        {
            var error = Assert.Throws<VfioException>(() => iommufd.OpenDevice(Device));

            Assert.Equal(failBind ? "EBUSY" : "EINVAL", error.ErrnoName);
            Assert.Contains(Device, error.Message, StringComparison.Ordinal);
            Assert.Equal(1, _open); // only the iommufd
        }

        Assert.Equal(0, _open);
    }

    [Fact]
    public void Mapping_lets_the_kernel_choose_or_fixes_the_iova_and_unmaps_on_dispose()
    {
        var maps = new List<iommu_ioas_map>();
        var unmaps = new List<iommu_ioas_unmap>();
        _sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_MAP, argument =>
        {
            var map = Structs.Read<iommu_ioas_map>(argument, 0);
            maps.Add(map);
            if ((map.flags & (uint)iommufd_ioas_map_flags.IOMMU_IOAS_MAP_FIXED_IOVA) == 0)
            {
                map.iova = 0x8000_0000; // the kernel's choice comes back in the argument
                Structs.Bytes(ref map).CopyTo(argument);
            }

            return 0;
        });
        _sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_UNMAP, argument =>
        {
            unmaps.Add(Structs.Read<iommu_ioas_unmap>(argument, 0));
            return 0;
        });
        using var iommufd = Open();
        var space = iommufd.CreateAddressSpace();
        using var buffer = DmaBuffer.Allocate(8192);

        using (var chosen = space.MapDma(buffer))
        {
            Assert.Equal(0x8000_0000UL, chosen.Iova);
        }

        var fixedMapping = space.MapDma(buffer, iova: 0x10000, deviceWrites: false);
        Assert.Equal(0x10000UL, fixedMapping.Iova);
        space.Dispose(); // unmaps what is left, then destroys the IOAS

        Assert.Equal((uint)(iommufd_ioas_map_flags.IOMMU_IOAS_MAP_READABLE | iommufd_ioas_map_flags.IOMMU_IOAS_MAP_WRITEABLE), maps[0].flags);
        Assert.Equal((uint)(iommufd_ioas_map_flags.IOMMU_IOAS_MAP_READABLE | iommufd_ioas_map_flags.IOMMU_IOAS_MAP_FIXED_IOVA), maps[1].flags);
        Assert.All(maps, m => Assert.Equal((ulong)buffer.Address, m.user_va));
        Assert.All(maps, m => Assert.Equal(8192UL, m.length));
        Assert.Equal([0x8000_0000UL, 0x10000UL], unmaps.Select(u => u.iova));
        Assert.All(unmaps, u => Assert.Equal(IoasId, u.ioas_id));
        Assert.Equal($"DESTROY {IoasId}", _calls[^1]);
    }

    [Fact]
    public void A_refused_map_names_the_address_space_and_leaves_the_buffer_free()
    {
        _sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_MAP, -Errno.EEXIST);
        using var iommufd = Open();
        var space = iommufd.CreateAddressSpace();
        var buffer = DmaBuffer.Allocate(4096);

        var error = Assert.Throws<VfioException>(() => space.MapDma(buffer, iova: 0x1000));

        Assert.Equal("EEXIST", error.ErrnoName);
        Assert.Contains($"IOAS {IoasId}", error.Message, StringComparison.Ordinal);
        Assert.Contains("0x1000", error.Message, StringComparison.Ordinal);
        buffer.Dispose(); // not mapped: may be freed
    }

    [Fact]
    public void Iova_ranges_are_read_again_with_room_for_all_when_the_kernel_says_EMSGSIZE()
    {
        var calls = 0;
        _sys.OnIoctl(IommuFd, IommufdUapi.IOMMU_IOAS_IOVA_RANGES, (argument, buffer) =>
        {
            calls++;
            var query = Structs.Read<iommu_ioas_iova_ranges>(argument, 0);
            var ranges = Enumerable.Range(0, 10).Select(i => new iommu_iova_range { start = (ulong)i << 32, last = ((ulong)i << 32) + 0xFFFF_FFFF - 0x1000 }).ToArray();
            var room = query.num_iovas;
            query.num_iovas = (uint)ranges.Length;
            query.out_iova_alignment = 0x1000;
            Structs.Bytes(ref query).CopyTo(argument);
            if (room < ranges.Length)
            {
                return -Errno.EMSGSIZE;
            }

            Assert.Equal(room * 16, (uint)buffer.Length); // the array the kernel fills is the one announced
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(ranges.AsSpan()).CopyTo(buffer);
            return 0;
        });
        using var iommufd = Open();

        var info = iommufd.CreateAddressSpace().GetIommuInfo();

        Assert.Equal(2, calls);
        Assert.Equal(10, info.IovaRanges.Count);
        Assert.Equal((9UL << 32, (9UL << 32) + 0xFFFF_EFFF), info.IovaRanges[9]);
        Assert.Equal(0x1000UL, info.PageSizes);
    }

    private int Opened(int fd, string what)
    {
        _open++;
        _calls.Add(what);
        return fd;
    }
}
