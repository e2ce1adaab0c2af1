namespace Vfio.Platform.Interrupts;

/// <summary>Data of <see cref="VfioDevice.ReleaseRequested"/>.</summary>
/// <param name="device">The device the kernel wants back.</param>
/// <param name="count">How many requests the eventfd had counted when it was read (the kernel repeats the
/// request about every 10 seconds until the device is released).</param>
public sealed class VfioReleaseRequestedEventArgs(VfioDevice device, ulong count) : EventArgs
{
    /// <summary>The device the kernel wants back: disposing it releases it. Dispose it here only if no other
    /// thread uses it; otherwise have the thread that does stop and dispose it.</summary>
    public VfioDevice Device { get; } = device;

    /// <summary>Requests counted since the last notification.</summary>
    public ulong Count { get; } = count;
}
