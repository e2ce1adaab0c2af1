using Vfio.Native;

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

/// <summary>Wires the device-request IRQ (<c>VFIO_PCI_REQ_IRQ_INDEX</c>) to an eventfd and raises the device's
/// event from the async waiter each time it fires.</summary>
internal sealed class ReleaseRequestWatcher : IDisposable
{
    private readonly VfioInterrupt _irq;
    private readonly CancellationTokenSource _stop = new();
    private readonly Action<ulong> _raise;

    private ReleaseRequestWatcher(VfioInterrupt irq, Action<ulong> raise)
    {
        _irq = irq;
        _raise = raise;
    }

    /// <summary>Starts watching; <paramref name="raise"/> runs the handlers (on a thread-pool thread) and
    /// deals with their failures itself: whatever escapes it would fault a task nobody observes.</summary>
    public static ReleaseRequestWatcher Start(VfioDevice device, Action<ulong> raise)
    {
        var irq = device.EnableInterrupt(VfioUapi.VFIO_PCI_REQ_IRQ_INDEX);
        var watcher = new ReleaseRequestWatcher(irq, raise);
        _ = watcher.RunAsync();
        return watcher;
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            ulong count;
            try
            {
                count = await _irq.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return; // the device went away under the wait
            }

            if (count != 0 && !token.IsCancellationRequested)
            {
                // Off the waiter's thread: a handler that disposes the device must not dispose the
                // eventfd its own wait is running on.
                await Task.Yield();
                _raise(count);
            }
        }
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _stop.Cancel();
        _irq.Dispose();
        _stop.Dispose();
    }
}
