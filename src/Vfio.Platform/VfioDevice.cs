using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Interrupts;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Kernel;
using Vfio.Platform.Mmio;

namespace Vfio.Platform;

/// <summary>A VFIO device: regions, interrupts, reset. Opened through its group
/// (<see cref="VfioGroup.OpenDevice"/>) or through its device cdev bound to an iommufd
/// (<see cref="Iommufd.IommufdContext.OpenDevice"/>); the API is the same either way.</summary>
public sealed class VfioDevice : IDisposable
{
    private IVfioDeviceOwner _owner;
    private readonly KernelFd _fd;
    private readonly List<IDisposable> _owned = [];
    private ReleaseRequestWatcher? _releaseWatcher;
    private EventHandler<VfioReleaseRequestedEventArgs>? _releaseRequested;
    private PhysicalDmaSpace? _physicalDma;
    private int _disposing;

    private VfioDevice(IVfioDeviceOwner owner, KernelFd fd, string name, vfio_device_info info)
    {
        _owner = owner;
        _fd = fd;
        Name = name;
        Flags = info.flags;
        RegionCount = (int)info.num_regions;
        IrqCount = (int)info.num_irqs;
    }

    /// <summary>The device name (platform device or PCI address).</summary>
    public string Name { get; }

    /// <summary>Raw <c>VFIO_DEVICE_FLAGS_*</c>.</summary>
    public uint Flags { get; }

    /// <summary>Number of regions.</summary>
    public int RegionCount { get; }

    /// <summary>Number of IRQ indexes.</summary>
    public int IrqCount { get; }

    /// <summary>A platform device (vfio-platform).</summary>
    public bool IsPlatform => (Flags & VfioUapi.VFIO_DEVICE_FLAGS_PLATFORM) != 0;

    /// <summary>A PCI device (vfio-pci).</summary>
    public bool IsPci => (Flags & VfioUapi.VFIO_DEVICE_FLAGS_PCI) != 0;

    /// <summary>The kernel can reset the device (<c>VFIO_DEVICE_FLAGS_RESET</c>).</summary>
    public bool CanReset => (Flags & VfioUapi.VFIO_DEVICE_FLAGS_RESET) != 0;

    /// <summary>The group the device was opened through, or null for a device opened through its cdev.</summary>
    public VfioGroup? Group => _owner as VfioGroup;

    /// <summary>Where DMA mappings for this device are made: its container (type1) or its iommufd address
    /// space. Null in no-IOMMU mode, where DMA mapping is unavailable.</summary>
    public IDmaSpace? DmaSpace => _owner.DmaSpace;

    /// <summary>For a device in a no-IOMMU group only: DMA by physical address, with huge-page buffers
    /// (see <see cref="Dma.PhysicalDmaSpace"/> for what that needs and risks). Null behind an IOMMU, where
    /// <see cref="DmaSpace"/> is the way.</summary>
    public PhysicalDmaSpace? PhysicalDmaSpace => _owner is VfioGroup { IsNoIommu: true } ? _physicalDma ??= new PhysicalDmaSpace(Sys, Name) : null;

    internal ISyscalls Sys => _owner.Sys;

    internal KernelFd Fd => _fd;

    /// <summary>The address space a device opened through its cdev is attached to; null for one opened through a group.</summary>
    internal IoAddressSpace? AddressSpace => _owner as IoAddressSpace;

    /// <summary>After <see cref="IoAddressSpace.Attach(VfioDevice)"/>: the device's DMA goes through <paramref name="space"/> now.</summary>
    internal void MoveTo(IoAddressSpace space) => _owner = space;

    /// <summary>Whether the device holds anything besides its descriptor: mapped regions, interrupts, a
    /// release-request watcher. A handover refuses such a device: interrupts are kernel state the receiver
    /// would inherit without knowing it, and the sender's regions would outlive its claim on the device.</summary>
    internal bool HoldsResources
    {
        get
        {
            lock (_owned)
            {
                return _owned.Count > 0 || _releaseWatcher is not null;
            }
        }
    }

    internal static VfioDevice Open(VfioGroup group, string name, int groupFd)
    {
        var sys = group.Sys;
        // The name as a C string (zero-terminated); device names are short, so on the stack.
        var length = System.Text.Encoding.UTF8.GetByteCount(name) + 1;
        Span<byte> nameBytes = length <= 256 ? stackalloc byte[256] : new byte[length];
        nameBytes = nameBytes[..length];
        nameBytes[^1] = 0;
        System.Text.Encoding.UTF8.GetBytes(name, nameBytes);
        var fd = sys.Ioctl(groupFd, VfioUapi.VFIO_GROUP_GET_DEVICE_FD, nameBytes);
        if (fd < 0)
        {
            throw new VfioException("VFIO_GROUP_GET_DEVICE_FD", name, -fd, ErrnoHints.For(KernelCall.GetDeviceFd, -fd, group.Path, name));
        }

        return FromFd(group, new KernelFd(sys, fd), name);
    }

    /// <summary>Wraps an open device fd (from a group or a cdev): <c>VFIO_DEVICE_GET_INFO</c>. Closes the
    /// fd when that fails.</summary>
    internal static VfioDevice FromFd(IVfioDeviceOwner owner, KernelFd handle, string name)
    {
        var sys = owner.Sys;
        var fd = handle.Fd;
        try
        {
            var info = new vfio_device_info { argsz = Structs.Size<vfio_device_info>() };
            var result = sys.Ioctl(fd, VfioUapi.VFIO_DEVICE_GET_INFO, Structs.Bytes(ref info));
            if (result < 0)
            {
                throw new VfioException("VFIO_DEVICE_GET_INFO", name, -result);
            }

            return new VfioDevice(owner, handle, name, info);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary><c>VFIO_DEVICE_GET_REGION_INFO</c> with its capability chain (sparse mmap areas, type).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not below <see cref="RegionCount"/>: checked before the kernel is asked.</exception>
    /// <exception cref="VfioException">The kernel refused.</exception>
    public VfioRegionInfo GetRegionInfo(int index)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        if ((uint)index >= (uint)RegionCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name}: GetRegionInfo: region index {index} is out of range: the device has {RegionCount} region(s).");
        }

        var size = (int)Structs.Size<vfio_region_info>();
        // Room for the usual capability chain on the stack; the kernel says when it needs more.
        Span<byte> buffer = stackalloc byte[Structs.InfoStackSize];
        for (var attempt = 0; ; attempt++)
        {
            buffer.Clear();
            var header = new vfio_region_info { argsz = (uint)buffer.Length, index = (uint)index };
            Structs.Bytes(ref header).CopyTo(buffer);
            var result = Sys.Ioctl(_fd.Fd, VfioUapi.VFIO_DEVICE_GET_REGION_INFO, buffer);
            if (result < 0)
            {
                throw new VfioException($"VFIO_DEVICE_GET_REGION_INFO({index})", Name, -result,
                    IsPci && index == VfioUapi.VFIO_PCI_VGA_REGION_INDEX && -result == Errno.EINVAL ? "Region 8 of a PCI device is the legacy VGA range; this device is not a VGA device." : null);
            }

            var info = Structs.Read<vfio_region_info>(buffer, 0);
            // The kernel says how much room the capability chain needs; ask again with that much.
            if (info.argsz > buffer.Length && attempt == 0 && info.argsz <= 1 << 20)
            {
                buffer = new byte[info.argsz];
                continue;
            }

            var capabilities = (info.flags & VfioUapi.VFIO_REGION_INFO_FLAG_CAPS) != 0 && info.cap_offset != 0
                ? ParseChain(buffer[..Math.Min(buffer.Length, (int)info.argsz)], info.cap_offset, size) // what the kernel filled, not the spare room
                : [];
            List<VfioSparseArea>? sparse = null;
            (uint, uint)? type = null;
            foreach (var capability in capabilities)
            {
                var span = buffer.Slice(capability.Offset, capability.Length);
                if (capability.Id == VfioUapi.VFIO_REGION_INFO_CAP_SPARSE_MMAP && span.Length >= vfio_region_info_cap_sparse_mmap.areas_Offset)
                {
                    var head = Structs.Read<vfio_region_info_cap_sparse_mmap>(span, 0);
                    var areas = vfio_region_info_cap_sparse_mmap.areas(span, (int)Math.Min(head.nr_areas, (uint)((span.Length - vfio_region_info_cap_sparse_mmap.areas_Offset) / (int)Structs.Size<vfio_region_sparse_mmap_area>())));
                    sparse = [.. areas.ToArray().Select(a => new VfioSparseArea(a.offset, a.size))];
                }
                else if (capability.Id == VfioUapi.VFIO_REGION_INFO_CAP_TYPE && span.Length >= (int)Structs.Size<vfio_region_info_cap_type>())
                {
                    var t = Structs.Read<vfio_region_info_cap_type>(span, 0);
                    type = (t.type, t.subtype);
                }
            }

            return new VfioRegionInfo(index, info.flags, info.size, info.offset, sparse, type, capabilities);
        }
    }

    private List<VfioCapability> ParseChain(ReadOnlySpan<byte> buffer, uint first, int fixedSize)
    {
        try
        {
            return CapabilityChain.Parse(buffer, first, fixedSize);
        }
        catch (InvalidDataException e)
        {
            throw new VfioException("VFIO_DEVICE_GET_REGION_INFO", Name, Errno.EPROTO, $"The kernel's capability chain is malformed: {e.Message}");
        }
    }

    /// <summary>Maps region <paramref name="index"/> for MMIO. Falls back to pread/pwrite on the device
    /// file when the kernel does not allow mmap, behind the same API.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not below <see cref="RegionCount"/>.</exception>
    /// <exception cref="ArgumentException">The region is neither readable nor writable (an absent BAR, say).</exception>
    public MmioRegion MapRegion(int index)
    {
        var info = GetRegionInfo(index);
        if (!info.CanRead && !info.CanWrite)
        {
            throw new ArgumentException($"{Name}: MapRegion: region {index} is neither readable nor writable (size {info.Size}).", nameof(index));
        }

        var region = MmioRegion.Create(Sys, _fd, info, $"{Name} region {index}");
        lock (_owned)
        {
            _owned.Add(region);
        }

        return region;
    }

    /// <summary><c>VFIO_DEVICE_GET_IRQ_INFO</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not below <see cref="IrqCount"/>: checked before the kernel is asked.</exception>
    /// <exception cref="VfioException">The kernel refused.</exception>
    public VfioIrqInfo GetIrqInfo(int index)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        if ((uint)index >= (uint)IrqCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name}: GetIrqInfo: IRQ index {index} is out of range: the device has {IrqCount} IRQ index(es).");
        }

        var info = new vfio_irq_info { argsz = Structs.Size<vfio_irq_info>(), index = (uint)index };
        var result = Sys.Ioctl(_fd.Fd, VfioUapi.VFIO_DEVICE_GET_IRQ_INFO, Structs.Bytes(ref info));
        return result < 0
            ? throw new VfioException($"VFIO_DEVICE_GET_IRQ_INFO({index})", Name, -result,
                IsPci && index == VfioUapi.VFIO_PCI_ERR_IRQ_INDEX && -result == Errno.EINVAL ? "IRQ index 3 is PCIe error reporting; this is not a PCI Express device." : null)
            : new VfioIrqInfo(index, info.flags, info.count);
    }

    /// <summary>Wires IRQ <paramref name="index"/> (vector <paramref name="subindex"/>) to an eventfd.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index or the vector is out of range.</exception>
    /// <exception cref="ArgumentException">The index cannot signal an eventfd.</exception>
    /// <exception cref="VfioException">The kernel refused.</exception>
    public VfioInterrupt EnableInterrupt(int index, int subindex = 0)
    {
        var info = GetIrqInfo(index);
        if (!info.SupportsEventFd)
        {
            throw new ArgumentException($"{Name}: EnableInterrupt: IRQ index {index} cannot signal an eventfd (flags 0x{info.Flags:x}).", nameof(index));
        }

        if ((uint)subindex >= info.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(subindex), subindex, $"{Name}: EnableInterrupt: IRQ index {index} has {info.Count} vector(s); {subindex} is out of range.");
        }

        var interrupt = VfioInterrupt.Create(this, info, subindex);
        lock (_owned)
        {
            _owned.Add(interrupt);
        }

        return interrupt;
    }

    /// <summary>Wires vectors 0 to <paramref name="count"/> - 1 of IRQ <paramref name="index"/> to one eventfd each,
    /// in a single <c>VFIO_DEVICE_SET_IRQS</c>: the way to enable MSI (<c>VFIO_PCI_MSI_IRQ_INDEX</c>) and MSI-X
    /// (<c>VFIO_PCI_MSIX_IRQ_INDEX</c>), whose vectors the kernel enables together. Disposing one vector detaches
    /// its eventfd; disposing the last disables the index.</summary>
    /// <param name="index">The IRQ index.</param>
    /// <param name="count">Vectors wanted, 1 to the index's count.</param>
    /// <returns>One interrupt per vector, in vector order.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range, or it has fewer vectors than <paramref name="count"/>.</exception>
    /// <exception cref="ArgumentException">The index cannot signal eventfds.</exception>
    /// <exception cref="VfioException">The kernel refused.</exception>
    public IReadOnlyList<VfioInterrupt> EnableInterrupts(int index, int count)
    {
        var info = GetIrqInfo(index);
        if (!info.SupportsEventFd)
        {
            throw new ArgumentException($"{Name}: EnableInterrupts: IRQ index {index} cannot signal an eventfd (flags 0x{info.Flags:x}).", nameof(index));
        }

        if (count < 1 || (uint)count > info.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{Name}: EnableInterrupts: IRQ index {index} has {info.Count} vector(s); {count} cannot be enabled.");
        }

        var interrupts = VfioInterrupt.CreateMany(this, info, count);
        lock (_owned)
        {
            _owned.AddRange(interrupts);
        }

        return interrupts;
    }

    /// <summary>Sends a <c>VFIO_DEVICE_SET_IRQS</c> request with optional eventfd data, built on the stack
    /// (the heap only past 64 eventfds): mask, unmask and trigger allocate nothing.</summary>
    internal int SetIrqs(uint flags, int index, int start, int count, ReadOnlySpan<int> eventFds)
    {
        const int StackFds = 64;
        var length = vfio_irq_set.data_Offset + (eventFds.Length * sizeof(int));
        var set = new vfio_irq_set { argsz = (uint)length, flags = flags, index = (uint)index, start = (uint)start, count = (uint)count };
        if (eventFds.IsEmpty)
        {
            // Mask and unmask (the interrupt path): the 20-byte header itself, nothing copied or cleared.
            return Sys.Ioctl(_fd.Fd, VfioUapi.VFIO_DEVICE_SET_IRQS, Structs.Bytes(ref set)[..vfio_irq_set.data_Offset]);
        }

        Span<byte> buffer = eventFds.Length <= StackFds ? stackalloc byte[length] : new byte[length];
        Structs.Bytes(ref set)[..vfio_irq_set.data_Offset].CopyTo(buffer);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(eventFds).CopyTo(vfio_irq_set.data(buffer, eventFds.Length * sizeof(int)));
        return Sys.Ioctl(_fd.Fd, VfioUapi.VFIO_DEVICE_SET_IRQS, buffer);
    }

    internal void Forget(IDisposable owned)
    {
        // An interrupt may be disposed on another thread (the documented way to end a blocked wait).
        lock (_owned)
        {
            _owned.Remove(owned);
        }
    }

    /// <summary>True when the kernel can ask for the device back through an interrupt (vfio-pci's
    /// device-request IRQ, <c>VFIO_PCI_REQ_IRQ_INDEX</c>): <see cref="ReleaseRequested"/> works.</summary>
    public bool CanRequestRelease
    {
        get
        {
            if (!IsPci || IrqCount <= VfioUapi.VFIO_PCI_REQ_IRQ_INDEX)
            {
                return false;
            }

            try
            {
                var info = GetIrqInfo(VfioUapi.VFIO_PCI_REQ_IRQ_INDEX);
                return info.Count > 0 && info.SupportsEventFd;
            }
            catch (VfioException)
            {
                return false;
            }
        }
    }

    /// <summary>Raised when the kernel asks for the device back: someone unbinds it from its VFIO driver
    /// (<c>echo BDF &gt; /sys/bus/pci/drivers/vfio-pci/unbind</c>, a hot unplug) while it is open here. The
    /// unbind blocks until the device is closed, and the kernel repeats the request about every 10
    /// seconds. Raised on a thread-pool thread, not the one that uses the device: the handler should tell
    /// that thread to stop (a <see cref="CancellationTokenSource"/>, say) and let it dispose the device
    /// (and the group or address space that owns it) when it has stopped touching the device's regions,
    /// since an <see cref="Mmio.MmioRegion"/> must not be disposed while another thread accesses it. A
    /// handler may dispose the device itself only when no other thread uses it. The first handler wires
    /// the device-request IRQ.
    /// <para>A handler that throws does not stop the others; the exception is reported through
    /// <see cref="ReleaseHandlerFailed"/> (by default one line on standard error), and once every handler
    /// has run the library disposes the device on the event's thread, because the kernel waits for it.
    /// That Dispose races with any thread still accessing the device's regions, so a handler should stop
    /// those threads before anything in it can fail.</para></summary>
    /// <exception cref="NotSupportedException">On adding a handler: the device has no device-request IRQ
    /// (platform devices; see <see cref="CanRequestRelease"/>).</exception>
    /// <exception cref="VfioException">On adding the first handler: the kernel refused to wire the IRQ.</exception>
    /// <example>
    /// <code>
    /// using var stop = new CancellationTokenSource();
    /// device.ReleaseRequested += (_, _) => stop.Cancel();
    /// while (!stop.IsCancellationRequested) { /* drive the device */ }
    /// device.Dispose(); // on the thread that used it
    /// </code>
    /// </example>
    public event EventHandler<VfioReleaseRequestedEventArgs>? ReleaseRequested
    {
        add
        {
            ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
            if (!CanRequestRelease)
            {
                throw new NotSupportedException(
                    $"{Name}: ReleaseRequested: " + (IsPci ? "this vfio-pci has no device-request IRQ." : "only vfio-pci devices have a device-request IRQ; vfio-platform has none."));
            }

            _releaseRequested += value;
            _releaseWatcher ??= ReleaseRequestWatcher.Start(this, RaiseReleaseRequested);
        }

        remove => _releaseRequested -= value;
    }

    /// <summary>Raised on the event's thread when a <see cref="ReleaseRequested"/> handler throws, once per
    /// failed handler, before the library disposes the device. Without a handler here, the failure is
    /// written to standard error in one line; a handler here that throws is written there too. Nothing
    /// is rethrown: the event's thread is a thread-pool thread, where an exception would end the process.</summary>
    public event EventHandler<VfioReleaseHandlerFailedEventArgs>? ReleaseHandlerFailed;

    private void RaiseReleaseRequested(ulong count)
    {
        var handlers = _releaseRequested;
        if (handlers is null)
        {
            return;
        }

        var args = new VfioReleaseRequestedEventArgs(this, count);
        var failed = false;
        // One by one, so a handler that throws does not keep the next from running (the one that
        // disposes the device, perhaps).
        foreach (var handler in handlers.GetInvocationList())
        {
            try
            {
                ((EventHandler<VfioReleaseRequestedEventArgs>)handler)(this, args);
            }
            catch (Exception e)
            {
                failed = true;
                ReportReleaseHandlerFailure(e);
            }
        }

        if (failed)
        {
            try
            {
                Dispose();
            }
            catch (Exception e)
            {
                ReportReleaseHandlerFailure(e);
            }
        }
    }

    private void ReportReleaseHandlerFailure(Exception exception)
    {
        var report = ReleaseHandlerFailed;
        if (report is not null)
        {
            try
            {
                report(this, new VfioReleaseHandlerFailedEventArgs(this, exception));
                return;
            }
            catch (Exception e)
            {
                exception = new AggregateException(exception, e);
            }
        }

        try
        {
            Console.Error.WriteLine($"vfio: {Name}: a ReleaseRequested handler failed, releasing the device: {exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ")}");
        }
        catch (IOException)
        {
            // Standard error is gone: nowhere left to report to.
        }
    }

    /// <summary>Sets or clears Bus Master Enable (bit 2 of the PCI command register, through the
    /// config-space region). A PCI device can DMA only with it set, and vfio-pci leaves it as it found it.</summary>
    /// <exception cref="NotSupportedException">Not a PCI device.</exception>
    /// <exception cref="VfioException">The config space is not accessible.</exception>
    public void SetPciBusMaster(bool enable)
    {
        if (!IsPci)
        {
            throw new NotSupportedException($"{Name}: SetPciBusMaster: bus mastering is a PCI notion; a platform device can DMA as it is.");
        }

        const int Command = 0x04, BusMaster = 1 << 2;
        using var config = MmioRegion.Create(Sys, _fd, GetRegionInfo(VfioUapi.VFIO_PCI_CONFIG_REGION_INDEX), $"{Name} config space");
        var value = config.Read16(Command);
        config.Write16(Command, (ushort)(enable ? value | BusMaster : value & ~BusMaster));
    }

    /// <summary><c>VFIO_DEVICE_RESET</c>.</summary>
    /// <exception cref="VfioException">The kernel refused: on a device without <see cref="CanReset"/> it
    /// answers EINVAL, and the message says to use the device's own reset.</exception>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        var result = Sys.Ioctl(_fd.Fd, VfioUapi.VFIO_DEVICE_RESET, 0);
        if (result < 0)
        {
            throw new VfioException("VFIO_DEVICE_RESET", Name, -result,
                CanReset ? null : "The kernel offers no reset for this device (VFIO_DEVICE_FLAGS_RESET is clear); use the device's own reset (a software-reset register).");
        }
    }

    /// <summary>Disables interrupts, unmaps regions, closes the device.</summary>
    public void Dispose()
    {
        // Once only, whoever comes first: a failing release handler's fallback may race the program's own Dispose.
        if (Interlocked.Exchange(ref _disposing, 1) != 0 || _fd.IsClosed)
        {
            return;
        }

        _releaseWatcher?.Dispose();
        IDisposable[] owned;
        lock (_owned)
        {
            owned = [.. _owned];
        }

        foreach (var item in owned)
        {
            item.Dispose();
        }

        _fd.Dispose();
        _owner.Forget(this);
    }
}
