using System.Runtime.CompilerServices;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Interrupts;

/// <summary>One device interrupt wired to an eventfd (<c>VFIO_DEVICE_SET_IRQS</c>, <c>DATA_EVENTFD |
/// ACTION_TRIGGER</c>). For an AUTOMASKED (level-triggered) interrupt the kernel masks the line when
/// it fires: the handler clears the cause in the device first, then calls <see cref="Unmask"/>; unmasking
/// before clearing makes it fire again at once.</summary>
/// <example>
/// <code>
/// using var irq = device.EnableInterrupt(0);
/// if (irq.Wait(TimeSpan.FromSeconds(1)) != 0)
/// {
///     regs.Write32(0x30, regs.Read32(0x30)); // clear the cause (SDHCI: write 1 to clear)
///     irq.Unmask();
/// }
/// </code>
/// </example>
public sealed class VfioInterrupt : IDisposable
{
    private readonly VfioDevice _device;
    private readonly EventFd _eventFd;
    private int _disposed;

    // Vectors wired together by VfioDevice.EnableInterrupts share this count: the last one disposed
    // disables the index, the others only detach their eventfd.
    private StrongBox<int>? _siblings;

    private VfioInterrupt(VfioDevice device, VfioIrqInfo info, int subindex, EventFd eventFd)
    {
        _device = device;
        Info = info;
        Subindex = subindex;
        _eventFd = eventFd;
    }

    /// <summary>The IRQ index's info.</summary>
    public VfioIrqInfo Info { get; }

    /// <summary>The vector within the index.</summary>
    public int Subindex { get; }

    internal static VfioInterrupt Create(VfioDevice device, VfioIrqInfo info, int subindex)
    {
        var eventFd = EventFd.Create(device.Sys);
        try
        {
            var result = device.SetIrqs(VfioUapi.VFIO_IRQ_SET_DATA_EVENTFD | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, info.Index, subindex, 1, [eventFd.Fd]);
            if (result < 0)
            {
                throw new VfioException($"VFIO_DEVICE_SET_IRQS(index {info.Index}, eventfd)", device.Name, -result,
                    ErrnoHints.For(KernelCall.SetIrqsEventFd, -result));
            }

            return new VfioInterrupt(device, info, subindex, eventFd);
        }
        catch
        {
            eventFd.Dispose();
            throw;
        }
    }

    /// <summary>Vectors 0 to <paramref name="count"/> - 1 of an index in one <c>VFIO_DEVICE_SET_IRQS</c>: MSI
    /// and MSI-X must be enabled with all their vectors at once (changing the count later re-enables the
    /// index).</summary>
    internal static VfioInterrupt[] CreateMany(VfioDevice device, VfioIrqInfo info, int count)
    {
        var eventFds = new List<EventFd>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                eventFds.Add(EventFd.Create(device.Sys));
            }

            var fds = eventFds.Select(e => e.Fd).ToArray();
            var result = device.SetIrqs(VfioUapi.VFIO_IRQ_SET_DATA_EVENTFD | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, info.Index, 0, count, fds);
            if (result < 0)
            {
                throw new VfioException($"VFIO_DEVICE_SET_IRQS(index {info.Index}, {count} eventfds)", device.Name, -result,
                    ErrnoHints.For(KernelCall.SetIrqsEventFd, -result));
            }

            var siblings = new StrongBox<int>(count);
            return [.. eventFds.Select((e, i) => new VfioInterrupt(device, info, i, e) { _siblings = siblings })];
        }
        catch
        {
            foreach (var eventFd in eventFds)
            {
                eventFd.Dispose();
            }

            throw;
        }
    }

    /// <summary>Waits for the interrupt; returns how many times it fired since the last wait, 0 on timeout.</summary>
    /// <exception cref="ObjectDisposedException">The interrupt is disposed, before the call or while it
    /// waits: disposing from another thread is the way to end a wait with an infinite timeout.</exception>
    public ulong Wait(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _eventFd.Wait(timeout);
    }

    /// <summary>Waits without blocking the caller's thread; ends with <see cref="ObjectDisposedException"/>
    /// when the interrupt is disposed (from any thread) before it fires.</summary>
    public ValueTask<ulong> WaitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _eventFd.WaitAsync(cancellationToken);
    }

    /// <summary>Masks the interrupt (<c>ACTION_MASK</c>).</summary>
    public void Mask() => Action(VfioUapi.VFIO_IRQ_SET_ACTION_MASK, "mask");

    /// <summary>Unmasks the interrupt (<c>ACTION_UNMASK</c>): after the cause is cleared in the device.</summary>
    public void Unmask() => Action(VfioUapi.VFIO_IRQ_SET_ACTION_UNMASK, "unmask");

    /// <summary>Fires the interrupt from software (<c>DATA_NONE | ACTION_TRIGGER</c>), for tests and benchmarks.</summary>
    public void Trigger() => Action(VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, "trigger");

    private void Action(uint action, string what)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var result = _device.SetIrqs(VfioUapi.VFIO_IRQ_SET_DATA_NONE | action, Info.Index, Subindex, 1, []);
        if (result < 0)
        {
            throw new VfioException($"VFIO_DEVICE_SET_IRQS(index {Info.Index}, {what})", _device.Name, -result);
        }
    }

    /// <summary>Disconnects the eventfd from the interrupt and closes it. A <see cref="Wait"/> or
    /// <see cref="WaitAsync"/> in progress on another thread ends with <see cref="ObjectDisposedException"/>.
    /// Safe to call more than once, and from several threads.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var last = _siblings is null || Interlocked.Decrement(ref _siblings.Value) == 0;
        if (!_device.Fd.IsClosed)
        {
            _ = last
                ? _device.SetIrqs(VfioUapi.VFIO_IRQ_SET_DATA_NONE | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, Info.Index, 0, 0, [])
                : _device.SetIrqs(VfioUapi.VFIO_IRQ_SET_DATA_EVENTFD | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER, Info.Index, Subindex, 1, [-1]); // detach this vector only
        }

        _eventFd.Dispose();
        _device.Forget(this);
    }
}
