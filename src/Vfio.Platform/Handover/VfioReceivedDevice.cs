using Vfio.Platform.Iommufd;

namespace Vfio.Platform.Handover;

/// <summary>A device received from another process (<see cref="VfioHandover.Receive(System.Net.Sockets.Socket, TimeSpan?)"/>)
/// with the objects it needs: its group and container, or its iommufd and I/O address space. This
/// process owns them now; disposing this closes the device, then the group (detached from the
/// container), then the container, or the device, then the address space (destroyed), then the iommufd.</summary>
public sealed class VfioReceivedDevice : IDisposable
{
    internal VfioReceivedDevice(VfioHandoverKind kind, VfioDevice device, VfioContainer? container, VfioGroup? group, IommufdContext? iommufd, IoAddressSpace? addressSpace)
    {
        Kind = kind;
        Device = device;
        Container = container;
        Group = group;
        Iommufd = iommufd;
        AddressSpace = addressSpace;
    }

    /// <summary>How the sender opened the device.</summary>
    public VfioHandoverKind Kind { get; }

    /// <summary>The device: regions, interrupts, reset, and <see cref="VfioDevice.DmaSpace"/> (the received
    /// container or address space).</summary>
    public VfioDevice Device { get; }

    /// <summary>The container (<see cref="VfioHandoverKind.Group"/>), its IOMMU type the sender's.</summary>
    public VfioContainer? Container { get; }

    /// <summary>The group (<see cref="VfioHandoverKind.Group"/>).</summary>
    public VfioGroup? Group { get; }

    /// <summary>The iommufd (<see cref="VfioHandoverKind.Iommufd"/>).</summary>
    public IommufdContext? Iommufd { get; }

    /// <summary>The I/O address space the device is attached to (<see cref="VfioHandoverKind.Iommufd"/>).</summary>
    public IoAddressSpace? AddressSpace { get; }

    /// <summary>Closes everything received, device first.</summary>
    public void Dispose()
    {
        Container?.Dispose();
        Iommufd?.Dispose();
    }
}
