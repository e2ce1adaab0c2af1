namespace Vfio.Platform.Interrupts;

/// <summary>Data of <see cref="VfioDevice.ReleaseHandlerFailed"/>.</summary>
/// <param name="device">The device whose <see cref="VfioDevice.ReleaseRequested"/> handler threw.</param>
/// <param name="exception">What the handler threw.</param>
public sealed class VfioReleaseHandlerFailedEventArgs(VfioDevice device, Exception exception) : EventArgs
{
    /// <summary>The device; the library disposes it right after this event.</summary>
    public VfioDevice Device { get; } = device;

    /// <summary>What the handler threw.</summary>
    public Exception Exception { get; } = exception;
}
