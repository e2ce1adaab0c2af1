using System.Net.Sockets;
using Vfio.Platform;
using Vfio.Platform.Dma;
using Vfio.Platform.Handover;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Mmio;
using Vfio.Platform.Preparation;

namespace Vfio.Examples;

/// <summary>The API guide's examples, against an SDHCI controller (any device works for open/registers).</summary>
internal static class Examples
{
    // SDHCI registers the examples use (the block is declared in SdhciBlock.cs).
    private static readonly Register16<SdhciBlock, Access.ReadOnly> HostVersion = SdhciBlock.HostVersion;
    private static readonly Register32<SdhciBlock, Access.ReadOnly> CapabilitiesLow = SdhciBlock.Capabilities;
    private static readonly BitField<byte> BaseClockMhz = SdhciBlock.BaseClockMhz;

    public static void Quickstart()
    {
        // example: quickstart
        using var binding = VfioDeviceBinding.Bind("ff170000.mmc");          // what `sdhci-probe bind` does
        using var container = VfioContainer.Open();
        var device = container.OpenGroupOf("ff170000.mmc").OpenDevice("ff170000.mmc");
        using var regs = device.MapRegion(0);                                  // 0x1000 bytes of registers
        Console.WriteLine($"SDHCI version 0x{regs.Read16(0xFE):x4}");
        using var irq = device.EnableInterrupt(0);                             // SPI 49 as an eventfd
        // end
    }

    public static void Open(string name, bool noIommu)
    {
        // example: open
        using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
        var group = container.OpenGroupOf(name);          // /dev/vfio/N from SysfsRoot/bus/*/devices/NAME/iommu_group
        var device = group.OpenDevice(name);
        Console.WriteLine($"{device.Name}: {(device.IsPci ? "PCI" : "platform")}, " +
            $"{device.RegionCount} regions, {device.IrqCount} IRQ indexes, IOMMU {container.IommuType}");
        for (var i = 0; i < device.RegionCount; i++)
        {
            try
            {
                var region = device.GetRegionInfo(i);
                Console.WriteLine($"  region {i}: 0x{region.Size:x} bytes, mmap {region.CanMmap}");
            }
            catch (VfioException e)
            {
                Console.WriteLine($"  region {i}: {e.ErrnoName}");  // e.g. the VGA region of a non-VGA PCI device
            }
        }
        // end
    }

    public static void Registers(string name, bool noIommu)
    {
        using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
        var device = container.OpenGroupOf(name).OpenDevice(name);
        // example: registers
        using var regs = device.MapRegion(0);                // mmap, or pread/pwrite when not mappable
        ushort version = regs.Read16(0xFE);                   // offset-based, bounds and alignment checked
        uint caps = regs.Read(CapabilitiesLow);               // named register: the width is in the type
        Console.WriteLine($"version 0x{version:x4}, capabilities 0x{caps:x8}, " +
            $"base clock {BaseClockMhz.Get(caps)} MHz, spec 3.00+: {(regs.Read(HostVersion) & 0xFF) >= 2}");

        var responses = regs.Span<uint>(0x10, 4);            // a register array: checked once, one load per index
        for (var i = 0; i < responses.Length; i++)
        {
            Console.Write($"response {i}: 0x{responses[i]:x8}  ");
        }

        Console.WriteLine();
        // end
    }

    public static void RegisterBlock(string name, bool noIommu)
    {
        using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
        var device = container.OpenGroupOf(name).OpenDevice(name);
        using var region = device.MapRegion(0);
        // example: register-block
        var regs = region.Bind<SdhciBlock>();                  // checked once: size, alignment, mapped
        var caps = regs.Read(SdhciBlock.Capabilities);          // one load at a constant offset
        regs.Modify(SdhciBlock.HostControl2, SdhciBlock.UhsModeSelect, UhsMode.Sdr25);   // one field, read-modify-write
        var status = regs.Read(SdhciBlock.NormalInterruptStatus);
        regs.Write(SdhciBlock.NormalInterruptStatus, status);  // write 1 to clear; Modify would not compile
        Console.WriteLine($"base clock {SdhciBlock.BaseClockMhz.Get(caps)} MHz, UHS mode " +
            $"{SdhciBlock.UhsModeSelect.Get(regs.Read(SdhciBlock.HostControl2))}, status 0x{status:x4}");
        // end
        // example: register-bus
        var detect = new CardDetect<MmioBus>(region.Bind<SdhciBlock>());   // the driver compiled for the device: loads
        Console.WriteLine($"card present: {detect.CardPresent}");
        // A test runs the same driver on a model of the controller (any IRegisterBus):
        // new CardDetect<SdhciModel>(RegisterBlock.Over<SdhciBlock, SdhciModel>(model))
        // end
    }

    public static void Interrupt(string name, bool noIommu)
    {
        using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
        var device = container.OpenGroupOf(name).OpenDevice(name);
        using var regs = device.MapRegion(0);
        PowerAndClock(regs);
        // example: interrupt
        using var irq = device.EnableInterrupt(0);            // IRQ index 0 (platform IRQ, or PCI INTx) -> eventfd
        regs.Write16(0x34, 0x0001);                           // SDHCI: enable the command-complete status ...
        regs.Write16(0x38, 0x0001);                           // ... and its interrupt signal
        regs.Write16(0x0E, 0x0000);                           // send CMD0: completes at once, raises the interrupt
        if (irq.Wait(TimeSpan.FromSeconds(1)) == 0)
        {
            throw new TimeoutException("no interrupt within 1 s");
        }

        var status = regs.Read16(0x30);
        regs.Write16(0x30, status);                           // clear the cause in the device first (write 1 to clear) ...
        if (irq.Info.IsAutomasked)
        {
            irq.Unmask();                                     // ... then unmask: the line is level-triggered
        }

        Console.WriteLine($"interrupt: status 0x{status:x4}");
        // end
    }

    public static async Task InterruptAsync(string name, bool noIommu)
    {
        using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
        var device = container.OpenGroupOf(name).OpenDevice(name);
        using var regs = device.MapRegion(0);
        PowerAndClock(regs);
        regs.Write16(0x34, 0x0001);
        regs.Write16(0x38, 0x0001);
        // example: interrupt-async
        using var irq = device.EnableInterrupt(0);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var fired = irq.WaitAsync(timeout.Token);             // no thread blocked, no allocation per wait
        regs.Write16(0x0E, 0x0000);                           // CMD0
        var count = await fired.ConfigureAwait(false);        // OperationCanceledException after 1 s
        regs.Write16(0x30, regs.Read16(0x30));
        if (irq.Info.IsAutomasked)
        {
            irq.Unmask();
        }

        Console.WriteLine($"async interrupt: fired {count} time(s)");
        // end
    }

    public static void Dma(string name)
    {
        // example: dma
        using var container = VfioContainer.Open();          // type1: a real IOMMU translates the device's addresses
        var device = container.OpenGroupOf(name).OpenDevice(name);
        if (device.IsPci)
        {
            device.SetPciBusMaster(true);                     // vfio-pci leaves Bus Master Enable as it found it
        }

        IDmaSpace space = device.DmaSpace ?? throw new InvalidOperationException("no-IOMMU: no DMA mapping");
        var info = space.GetIommuInfo();
        Console.WriteLine($"IOVA ranges: {string.Join(", ", info.IovaRanges.Select(r => $"0x{r.Start:x}-0x{r.End:x}"))}");
        using var buffer = DmaBuffer.Allocate(64 * 1024);     // page-aligned, pinned when mapped
        using (var mapping = space.MapDma(buffer))            // the IOVA comes from the IOMMU's allowed ranges
        {
            Console.WriteLine($"64 KiB at IOVA 0x{mapping.Iova:x}");  // program this into the device, never buffer.Address
        }                                                     // unmapped here; the buffer may be freed after
        // end
    }

    public static void PhysicalDma(string name)
    {
        // example: physical-dma
        // No IOMMU (the ZynqMP rig, a board whose SMMU the kernel does not drive): the device is given
        // physical addresses. Unsafe, so only for a container opened with AllowNoIommu; needs root and a
        // reserved huge page (echo 1 > /proc/sys/vm/nr_hugepages).
        using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = true });
        var device = container.OpenGroupOf(name).OpenDevice(name);
        PhysicalDmaSpace space = device.PhysicalDmaSpace ?? throw new InvalidOperationException("behind an IOMMU: use DmaSpace");
        using var buffer = DmaBuffer.Allocate(2 << 20, hugePages: true); // one huge page: contiguous, never moved
        using (var mapping = space.MapDma(buffer))                        // reads /proc/self/pagemap
        {
            Console.WriteLine($"2 MiB at physical address 0x{mapping.Iova:x}");
        }
        // end
    }

    public static void IommufdDevice(string name)
    {
        if (!IommufdContext.IsAvailableFor(name))
        {
            Console.WriteLine("iommufd: not available for this device (kernel without IOMMUFD or VFIO_DEVICE_CDEV, or a no-IOMMU device)");
            return;
        }

        // example: iommufd
        using var iommufd = IommufdContext.Open();            // /dev/iommu
        var device = iommufd.OpenDevice(name);                // /dev/vfio/devices/vfioN, bound and attached to an IOAS
        using var regs = device.MapRegion(0);                 // from here on, the same API as through a group
        using var buffer = DmaBuffer.Allocate(4096);
        using var mapping = device.DmaSpace!.MapDma(buffer);  // IOMMU_IOAS_MAP
        Console.WriteLine($"iommufd: version 0x{regs.Read16(0xFE):x4}, 4 KiB at IOVA 0x{mapping.Iova:x}");
        // end
    }

    public static void HandoverSend(string name, string socketPath, bool useIommufd)
    {
        // example: handover-send
        // The privileged helper: opens the device (bound to VFIO already) and hands it to the program
        // listening at socketPath, which needs no access to /dev/vfio or /dev/iommu.
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        if (useIommufd)
        {
            using var iommufd = IommufdContext.Open();
            VfioHandover.Send(socket, iommufd.OpenDevice(name));          // iommufd + device, and the IOAS id
        }
        else
        {
            using var container = VfioContainer.Open();
            VfioHandover.Send(socket, container.OpenGroupOf(name).OpenDevice(name)); // container, group, device
        }

        Console.WriteLine($"sent {name}");                               // this process holds none of it now
        // end
    }

    public static void HandoverReceive(string socketPath)
    {
        // example: handover-receive
        // The unprivileged program: listens, receives, and uses the device as if it had opened it.
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        using var socket = listener.Accept();
        using var received = VfioHandover.Receive(socket, TimeSpan.FromSeconds(60)); // every descriptor checked
        var device = received.Device;
        using var regs = device.MapRegion(0);
        using var buffer = DmaBuffer.Allocate(4096);
        using var mapping = device.DmaSpace!.MapDma(buffer);               // the received container or IOAS
        Console.WriteLine($"received {device.Name} ({received.Kind}): version 0x{regs.Read16(0xFE):x4}, " +
            $"4 KiB at IOVA 0x{mapping.Iova:x}");
        // end
    }

    public static void Bind(string name, bool noIommu)
    {
        _ = noIommu;
        // example: bind
        var binding = VfioDeviceBinding.Bind(name);          // unbind the host driver, driver_override, probe, wait for the group
        Console.WriteLine($"{name}: {binding.OriginalDriver ?? "no driver"} -> {binding.VfioDriver}, {binding.GroupPath}");
        // ... use the device; later, binding.Restore() gives it back to its original driver
        // end
    }

    public static void Errors()
    {
        // example: errors
        try
        {
            using var container = VfioContainer.Open();
            container.OpenGroupOf("no-such-device");
        }
        catch (VfioException e)
        {
            // Every error names the call, the device and the errno, and usually says what to do.
            Console.WriteLine($"{e.Operation} on {e.Target}: {e.ErrnoName}");
            Console.WriteLine(e.Message);
        }
        // end
    }

    private static void PowerAndClock(MmioRegion regs)
    {
        regs.Write8(0x2F, 0x01);                              // software reset for all
        var deadline = DateTime.UtcNow.AddSeconds(1);
        while ((regs.Read8(0x2F) & 1) != 0 && DateTime.UtcNow < deadline)
        {
        }

        regs.Write8(0x29, 0x0F);                              // 3.3 V, bus power on
        regs.Write16(0x2C, 0x8001);                           // internal clock on, divider for 400 kHz-ish
        while ((regs.Read16(0x2C) & 0x0002) == 0 && DateTime.UtcNow < deadline)
        {
        }

        regs.Write16(0x2C, (ushort)(regs.Read16(0x2C) | 0x0004)); // SD clock on
        regs.Write16(0x30, 0xFFFF);                           // clear stale status
    }
}
