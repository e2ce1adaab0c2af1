using System.Net.Sockets;
using Vfio.Native;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Handover;

/// <summary>Hands an opened device to another process over a Unix socket (<c>SCM_RIGHTS</c>), so a
/// privileged helper can bind and open it and an unprivileged program use it, as DPDK's multi-process
/// mode and rust-vmm's users do. One message carries the descriptors (container, group and device, or
/// iommufd and device) and a small versioned header (device name, kind, IOMMU type, no-IOMMU flag, IOAS
/// id); the receiver rebuilds the objects from them without opening any node.</summary>
/// <remarks>
/// <para><b>Send moves the device.</b> After a successful <see cref="Send"/> the sender's device, group and
/// container (or address space and iommufd) are closed in the sender without any teardown call: the
/// kernel objects are shared open files and live on in the receiver, and a <c>VFIO_GROUP_UNSET_CONTAINER</c>
/// or <c>IOMMU_DESTROY</c> from the sender would pull them from under it. So the sender must hand over
/// a chain that is the device's alone: the only device of its group and the only group of its container
/// (or the only device of its address space and the only address space of its iommufd), no DMA mapped
/// (the sender's buffers would be freed under the device), no region mapped and no interrupt enabled
/// (kernel state the receiver would not know of). Sharing a device between two live processes is not
/// offered.</para>
/// <para><b>What the receiver can do:</b> everything a device opened in-process allows: map regions, enable
/// interrupts (its own eventfds), reset, map DMA through <see cref="VfioDevice.DmaSpace"/>, which is the
/// received container or I/O address space. It needs no access to <c>/dev/vfio</c> or <c>/dev/iommu</c>,
/// only enough locked-memory limit (<c>RLIMIT_MEMLOCK</c>) for the DMA it pins.</para>
/// <para><b>What it cannot do:</b> change driver bindings (<see cref="Preparation.VfioDeviceBinding"/>,
/// root's), choose the IOMMU back-end (the sender's, fixed when the container was set up), or open other
/// devices or groups unless it may open their nodes. In no-IOMMU mode Linux 6.12 checks
/// <c>CAP_SYS_RAWIO</c> when the group is opened, attached and its device first opened
/// (drivers/vfio/group.c, container.c), not on the device descriptor's calls, so a received no-IOMMU
/// device's registers and interrupts work without the capability; its
/// <see cref="VfioDevice.PhysicalDmaSpace"/> still reads <c>/proc/self/pagemap</c>, which shows
/// physical addresses to <c>CAP_SYS_ADMIN</c> only.</para>
/// <para><b>What the receiver checks</b> before trusting anything: the header's magic and version, that
/// the descriptor count is the kind's, that nothing was truncated (<c>MSG_CTRUNC</c>, <c>MSG_TRUNC</c>), and
/// that each descriptor is what the header says (<c>VFIO_GET_API_VERSION</c> and, for type1,
/// <c>VFIO_IOMMU_GET_INFO</c> on the container; <c>VFIO_GROUP_GET_STATUS</c> viable and attached on the
/// group; <c>IOMMU_IOAS_IOVA_RANGES</c> for the IOAS id on the iommufd; <c>VFIO_DEVICE_GET_INFO</c> on the
/// device). On any failure every descriptor received is closed and a <see cref="VfioException"/> names
/// the check. Received descriptors are close-on-exec (<c>MSG_CMSG_CLOEXEC</c>). The header's device
/// name is the sender's word: the kernel has no call that names a device from its descriptor.</para>
/// </remarks>
/// <example>
/// <code>
/// // root: bind, open, send
/// using var container = VfioContainer.Open();
/// var device = container.OpenGroupOf("0000:00:01.0").OpenDevice("0000:00:01.0");
/// VfioHandover.Send(socket, device);                 // the device is the peer's now
///
/// // an ordinary user, at the other end of the socket
/// using var received = VfioHandover.Receive(socket);
/// using var regs = received.Device.MapRegion(0);
/// using var buffer = DmaBuffer.Allocate(4096);
/// using var mapping = received.Device.DmaSpace!.MapDma(buffer);
/// </code>
/// </example>
public static class VfioHandover
{
    // Room for one more descriptor than a kind carries, so a sender that sends too many is seen as a
    // wrong count (and those descriptors closed) rather than only as a truncation.
    private const int DescriptorRoom = 4;

    /// <summary>Sends <paramref name="device"/>, its group and container (or its iommufd and address space)
    /// over <paramref name="socket"/>, then closes them in this process (see the remarks: send moves).</summary>
    /// <param name="socket">A connected Unix socket (stream or seqpacket).</param>
    /// <param name="device">An open device with no mapped region, interrupt or DMA mapping, alone in its
    /// group and container or in its address space and iommufd.</param>
    /// <exception cref="ArgumentException">Not a Unix socket.</exception>
    /// <exception cref="InvalidOperationException">The device shares its chain or holds resources.</exception>
    /// <exception cref="VfioException"><c>sendmsg</c> failed (the receiver closed the socket: EPIPE); the
    /// device is then still the sender's.</exception>
    public static void Send(Socket socket, VfioDevice device)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(device);
        RequireUnix(socket);
        ObjectDisposedException.ThrowIf(device.Fd.IsClosed, device);
        if (device.HoldsResources)
        {
            throw new InvalidOperationException($"{device.Name} has mapped regions, enabled interrupts or a release-request handler: dispose them before handing the device over.");
        }

        if (device.Group is { } group)
        {
            var container = group.Container;
            if (!group.IsExclusiveTo(device) || !container.IsExclusiveTo(group))
            {
                throw new InvalidOperationException($"{device.Name} must be the only device of its group, and the group the only one of its container, with no DMA mapped: the container goes with the device.");
            }

            var message = new HandoverMessage(VfioHandoverKind.Group, container.IommuType, group.IsNoIommu, 0, device.Name, group.Path);
            UnixRights.Send(socket, message.Encode(), [container.Fd.Fd, group.Fd.Fd, device.Fd.Fd]);
            device.Dispose(); // nothing but its descriptor: checked above
            group.Relinquish();
            container.Relinquish();
        }
        else if (device.AddressSpace is { } space)
        {
            var iommufd = space.Iommufd;
            if (!space.IsExclusiveTo(device) || !iommufd.IsExclusiveTo(space))
            {
                throw new InvalidOperationException($"{device.Name} must be the only device of its address space, and the address space the only one of its iommufd, with no DMA mapped: the iommufd goes with the device.");
            }

            var message = new HandoverMessage(VfioHandoverKind.Iommufd, VfioIommuType.None, false, space.Id, device.Name, iommufd.Options.IommufdPath);
            UnixRights.Send(socket, message.Encode(), [iommufd.Fd.Fd, device.Fd.Fd]);
            device.Dispose();
            space.Relinquish();
            iommufd.Relinquish();
        }
        else
        {
            throw new InvalidOperationException($"{device.Name} was opened neither through a group nor through an iommufd.");
        }
    }

    /// <summary>Receives a device sent by <see cref="Send"/>, checks every descriptor against the header and
    /// rebuilds the objects (see the remarks for what is checked and what the receiver can do).</summary>
    /// <param name="socket">A connected Unix socket.</param>
    /// <param name="timeout">How long to wait for the message; null waits for ever.</param>
    /// <returns>The device with its container or address space; dispose it to close them.</returns>
    /// <exception cref="ArgumentException">Not a Unix socket.</exception>
    /// <exception cref="VfioException">Nothing arrived in time (ETIMEDOUT), the peer closed the socket
    /// (ECONNRESET), the message is not a handover this library reads (EPROTO), or a descriptor is not what
    /// the header says (the failing ioctl and its errno). Every received descriptor is closed then.</exception>
    public static VfioReceivedDevice Receive(Socket socket, TimeSpan? timeout = null) => Receive(LinuxSyscalls.Instance, socket, timeout);

    internal static VfioReceivedDevice Receive(ISyscalls sys, Socket socket, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(socket);
        RequireUnix(socket);
        var data = new byte[HandoverMessage.MaxSize];
        Span<int> fds = stackalloc int[DescriptorRoom];
        var (length, flags) = UnixRights.Receive(socket, data, fds, out var count, timeout);

        // Owned from here: whatever fails below closes them all, last first (device before group before
        // container), and without a teardown call, since nothing was set up by this process.
        var received = new List<KernelFd>(count);
        foreach (var fd in fds[..count])
        {
            received.Add(new KernelFd(sys, fd));
        }

        try
        {
            if (length == 0 && count == 0)
            {
                throw new VfioException("recvmsg", UnixRights.Target, Errno.ECONNRESET, "The peer closed the socket without sending a device.");
            }

            if ((flags & SocketConstants.MSG_CTRUNC) != 0)
            {
                throw new VfioException("recvmsg", UnixRights.Target, Errno.EPROTO,
                    $"The control data was truncated (MSG_CTRUNC): more than {DescriptorRoom} descriptors were sent, or they could not all be installed (RLIMIT_NOFILE). The kernel dropped the rest.");
            }

            if ((flags & SocketConstants.MSG_TRUNC) != 0)
            {
                throw new VfioException("recvmsg", UnixRights.Target, Errno.EPROTO, $"The message is longer than a handover message ({HandoverMessage.MaxSize} bytes).");
            }

            var message = HandoverMessage.Decode(data.AsSpan(0, length), UnixRights.Target);
            if (count != message.DescriptorCount)
            {
                throw new VfioException("recvmsg", UnixRights.Target, Errno.EPROTO, $"A {message.Kind} handover carries {message.DescriptorCount} descriptors; {count} arrived.");
            }

            return Adopt(sys, message, received);
        }
        catch
        {
            for (var i = received.Count - 1; i >= 0; i--)
            {
                received[i].Dispose();
            }

            throw;
        }
    }

    private static VfioReceivedDevice Adopt(ISyscalls sys, HandoverMessage message, List<KernelFd> fds)
    {
        if (message.Kind == VfioHandoverKind.Group)
        {
            var container = VfioContainer.Adopt(sys, fds[0], message.IommuType, "received container (descriptor 1 of 3)");
            var group = container.AdoptGroup(fds[1], message.NodePath, message.IsNoIommu);
            var device = group.AdoptDevice(fds[2], message.DeviceName);
            return new VfioReceivedDevice(message.Kind, device, container, group, null, null);
        }

        var iommufd = IommufdContext.Adopt(sys, fds[0]);
        var space = iommufd.AdoptAddressSpace(message.IoasId);
        var cdevDevice = space.AdoptDevice(fds[1], message.DeviceName);
        return new VfioReceivedDevice(message.Kind, cdevDevice, null, null, iommufd, space);
    }

    private static void RequireUnix(Socket socket)
    {
        if (socket.AddressFamily != AddressFamily.Unix)
        {
            throw new ArgumentException($"Descriptors travel over Unix sockets only; this one is {socket.AddressFamily}.", nameof(socket));
        }
    }
}
