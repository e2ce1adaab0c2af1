using System.Net.Sockets;
using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Handover;
using Vfio.Platform.Iommufd;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>VfioHandover over a real Unix socket pair with real descriptors (memfds standing for the VFIO
/// nodes, <see cref="HandoverKernel"/> answering their ioctls): the round trip both ways a device is
/// opened, what the sender gives up, and every way a bad message is refused, each closing what arrived.</summary>
public sealed class HandoverTests : IDisposable
{
    private const string Device = "0000:00:01.0";
    private readonly HandoverKernel _kernel = new(Guid.NewGuid().ToString("N")[..12]);
    private readonly Socket _sender;
    private readonly Socket _receiver;

    public HandoverTests()
    {
        Span<int> pair = stackalloc int[2];
        Assert.Equal(0, Libc.socketpair(SocketConstants.AF_UNIX, SocketConstants.SOCK_STREAM | SocketConstants.SOCK_CLOEXEC, 0, pair));
        _sender = new Socket(new SafeSocketHandle(pair[0], ownsHandle: true));
        _receiver = new Socket(new SafeSocketHandle(pair[1], ownsHandle: true));
    }

    public void Dispose()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Fact]
    public void A_device_opened_through_its_group_arrives_with_its_group_and_container_and_the_sender_lets_go()
    {
        var container = VfioContainer.Open(_kernel, new VfioContainerOptions());
        var device = container.OpenGroup("/dev/vfio/7").OpenDevice(Device);
        Assert.Equal(3, _kernel.Held());

        VfioHandover.Send(_sender, device);

        // The sender closed its three descriptors, and no teardown call reached the shared kernel objects.
        Assert.DoesNotContain(_kernel.Calls, c => c.Contains("UNSET_CONTAINER", StringComparison.Ordinal));
        Assert.Equal(["close device", "close group", "close container"], _kernel.Calls.Where(c => c.StartsWith("close", StringComparison.Ordinal)));
        Assert.Throws<ObjectDisposedException>(() => container.CheckExtension(1));
        _kernel.Calls.Clear();

        using (var received = VfioHandover.Receive(_kernel, _receiver, TimeSpan.FromSeconds(5)))
        {
            Assert.Equal(3, _kernel.Held()); // in flight while the sender closed them, now this side's
            Assert.Equal(VfioHandoverKind.Group, received.Kind);
            Assert.Equal(Device, received.Device.Name);
            Assert.True(received.Device.IsPci);
            Assert.Equal(9, received.Device.RegionCount);
            Assert.Equal("/dev/vfio/7", received.Group!.Path);
            Assert.Equal(VfioIommuType.Type1v2, received.Container!.IommuType);
            Assert.Same(received.Container, received.Device.DmaSpace);
            Assert.Same(received.Group, received.Device.Group);
            Assert.Null(received.Iommufd);
            Assert.True(IsCloseOnExec(received.Device.Fd.Fd));
            Assert.True(IsCloseOnExec(received.Container.Fd.Fd));
            // Checked, not believed: each descriptor was asked what it is, and nothing was opened or set.
            Assert.Equal(["container VFIO_GET_API_VERSION", "container VFIO_IOMMU_GET_INFO", "group VFIO_GROUP_GET_STATUS", "device VFIO_DEVICE_GET_INFO"], _kernel.Calls);
            using var buffer = DmaBuffer.Allocate(4096);
            using var mapping = received.Device.DmaSpace!.MapDma(buffer);
            Assert.Contains("container VFIO_IOMMU_MAP_DMA", _kernel.Calls);
            _kernel.Calls.Clear();
        }

        // The receiver owns them now: the kernel's order, device before group before container.
        Assert.Equal(["container VFIO_IOMMU_UNMAP_DMA", "close device", "group VFIO_GROUP_UNSET_CONTAINER", "close group", "close container"], _kernel.Calls);
        Assert.Equal(0, _kernel.Held());
    }

    [Fact]
    public void A_device_opened_through_its_cdev_arrives_with_its_iommufd_and_address_space()
    {
        var iommufd = Iommufd.IommufdContext.Open(_kernel, new IommufdOptions());
        var space = iommufd.CreateAddressSpace();
        var device = space.Attach(Device, "/dev/vfio/devices/vfio3");

        VfioHandover.Send(_sender, device);

        Assert.DoesNotContain(_kernel.Calls, c => c.Contains("IOMMU_DESTROY", StringComparison.Ordinal));
        Assert.Equal(["close cdev", "close iommufd"], _kernel.Calls.Where(c => c.StartsWith("close", StringComparison.Ordinal)));
        _kernel.Calls.Clear();

        using (var received = VfioHandover.Receive(_kernel, _receiver, TimeSpan.FromSeconds(5)))
        {
            Assert.Equal(VfioHandoverKind.Iommufd, received.Kind);
            Assert.Equal(HandoverKernel.IoasId, received.AddressSpace!.Id);
            Assert.Same(received.AddressSpace, received.Device.DmaSpace);
            Assert.Null(received.Container);
            Assert.Equal(["iommufd IOMMU_IOAS_IOVA_RANGES", "cdev VFIO_DEVICE_GET_INFO"], _kernel.Calls);
            _kernel.Calls.Clear();
        }

        Assert.Equal(["close cdev", "iommufd IOMMU_DESTROY", "close iommufd"], _kernel.Calls);
        Assert.Equal(0, _kernel.Held());
    }

    [Fact]
    public void A_device_whose_container_maps_DMA_is_not_sent_and_stays_usable()
    {
        using var container = VfioContainer.Open(_kernel, new VfioContainerOptions());
        var device = container.OpenGroup("/dev/vfio/7").OpenDevice(Device);
        using var buffer = DmaBuffer.Allocate(4096);
        using var mapping = container.MapDma(buffer);

        var error = Assert.Throws<InvalidOperationException>(() => VfioHandover.Send(_sender, device));

        Assert.Contains("no DMA mapped", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_kernel.Calls, c => c.StartsWith("close", StringComparison.Ordinal));
        Assert.Equal(3, _kernel.Held());
        Assert.Equal(0, _receiver.Available); // nothing was sent
    }

    [Fact]
    public void A_socket_that_is_not_a_Unix_socket_is_refused()
    {
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.Throws<ArgumentException>(() => VfioHandover.Receive(_kernel, tcp, TimeSpan.Zero));
    }

    public static TheoryData<string> BadMessages =>
    [
        "wrong version", "too few descriptors", "too many descriptors", "container is not a container",
        "device is not a device", "group not attached", "unknown IOAS", "not a handover", "truncated control data",
    ];

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void A_bad_message_is_refused_with_the_failing_check_and_closes_every_descriptor_received(string bad)
    {
        var group = new HandoverMessage(VfioHandoverKind.Group, VfioIommuType.Type1v2, false, 0, Device, "/dev/vfio/7");
        var cdev = new HandoverMessage(VfioHandoverKind.Iommufd, VfioIommuType.None, false, 99, Device, "/dev/iommu");
        string[] roles = ["container", "group", "device"];
        var data = group.Encode();
        var (operation, errno, text) = ("handover message", Errno.EPROTO, "");
        switch (bad)
        {
            case "wrong version":
                data[4] = 2;
                text = "handover version 2";
                break;
            case "too few descriptors":
                roles = ["container", "group"];
                (operation, text) = ("recvmsg", "3 descriptors; 2 arrived");
                break;
            case "too many descriptors":
                roles = ["container", "group", "device", "device"];
                (operation, text) = ("recvmsg", "3 descriptors; 4 arrived");
                break;
            case "container is not a container":
                roles = ["plain", "group", "device"];
                (operation, errno, text) = ("VFIO_GET_API_VERSION", Errno.ENOTTY, "not a VFIO container");
                break;
            case "device is not a device":
                roles = ["container", "group", "group"];
                (operation, errno) = ("VFIO_DEVICE_GET_INFO", Errno.ENOTTY);
                break;
            case "group not attached":
                _kernel.GroupStatus = VfioUapi.VFIO_GROUP_FLAGS_VIABLE;
                (operation, text) = ("VFIO_GROUP_GET_STATUS", "attached to a container");
                break;
            case "unknown IOAS":
                data = cdev.Encode();
                roles = ["iommufd", "cdev"];
                (operation, errno, text) = ("IOMMU_IOAS_IOVA_RANGES", Errno.ENOENT, "no IOAS 99");
                break;
            case "not a handover":
                data = "GET / HTTP/1.0\r\n\r\n"u8.ToArray();
                text = "not a VFIO handover message";
                break;
            case "truncated control data":
                roles = ["container", "group", "device", "device", "device", "device"];
                (operation, text) = ("recvmsg", "MSG_CTRUNC");
                break;
        }

        var sent = roles.Select(_kernel.Node).ToArray();
        Assert.Equal(data.Length, Libc.sendmsg(((int)_sender.SafeHandle.DangerousGetHandle()), data, sent, 0));
        foreach (var fd in sent)
        {
            Libc.close(fd); // only the copies in flight are left
        }

        Assert.Equal(0, _kernel.Held());

        var error = Assert.Throws<VfioException>(() => VfioHandover.Receive(_kernel, _receiver, TimeSpan.FromSeconds(5)));

        Assert.Equal(operation, error.Operation);
        Assert.Equal(errno, error.Errno);
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _kernel.Held()); // every descriptor that arrived is closed again
        Assert.DoesNotContain(_kernel.Calls, c => c.Contains("UNSET_CONTAINER", StringComparison.Ordinal) || c.Contains("IOMMU_DESTROY", StringComparison.Ordinal));
    }

    [Fact]
    public void A_peer_that_closes_without_sending_is_reported_as_such()
    {
        _sender.Dispose();

        var error = Assert.Throws<VfioException>(() => VfioHandover.Receive(_kernel, _receiver, TimeSpan.FromSeconds(5)));

        Assert.Equal(Errno.ECONNRESET, error.Errno);
        Assert.Contains("closed the socket without sending a device", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_arriving_in_time_is_a_timeout()
    {
        var error = Assert.Throws<VfioException>(() => VfioHandover.Receive(_kernel, _receiver, TimeSpan.FromMilliseconds(50)));

        Assert.Equal(Errno.ETIMEDOUT, error.Errno);
        Assert.Equal("recvmsg", error.Operation);
    }

    [Fact]
    public void Sending_to_a_receiver_that_is_gone_fails_with_EPIPE_and_the_sender_keeps_the_device()
    {
        using var container = VfioContainer.Open(_kernel, new VfioContainerOptions());
        var device = container.OpenGroup("/dev/vfio/7").OpenDevice(Device);
        _receiver.Dispose();

        var error = Assert.Throws<VfioException>(() => VfioHandover.Send(_sender, device));

        Assert.Equal(Errno.EPIPE, error.Errno);
        Assert.Equal("sendmsg", error.Operation);
        Assert.Equal(9, device.RegionCount);
        Assert.Equal(3, _kernel.Held());
        Assert.DoesNotContain(_kernel.Calls, c => c.StartsWith("close", StringComparison.Ordinal));
    }

    private static bool IsCloseOnExec(int fd)
    {
        var flags = File.ReadAllLines($"/proc/self/fdinfo/{fd}").First(l => l.StartsWith("flags:", StringComparison.Ordinal));
        return (Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & LibcConstants.O_CLOEXEC) != 0;
    }
}
