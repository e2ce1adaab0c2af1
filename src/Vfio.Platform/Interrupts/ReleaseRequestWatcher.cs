using Vfio.Native;

namespace Vfio.Platform.Interrupts;

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
