using Vfio.Platform;
using Vfio.Platform.Dma;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>The platform side of the suite: the ZynqMP GDMA (<see cref="Zdma"/>) through vfio-platform in the
/// ZCU102 guest, which has no IOMMU (QEMU's xlnx-zcu102 models no SMMU), so the one mode is no-IOMMU and the
/// device is given physical addresses of huge pages (<see cref="PhysicalDmaSpace"/>). The selftests' memcpy,
/// interrupt and init/remove cases, the DMA-mapping cases as no-IOMMU answers them, and two channels used
/// side by side.</summary>
internal static partial class ConformanceRun
{
    public static readonly string[] PlatformCases =
    [
        "dma_map_unmap.anonymous", "dma_map_unmap.hugetlb_2mb", "dma_map_unmap.hugetlb_1gb", "dma_map_unmap.chosen_iova", "dma_map_limit.unmap_range",
        "device.regions", "device.irq_software_trigger", "device.reset",
        "driver.memcpy_success", "driver.memcpy_polled", "driver.memcpy_from_unmapped_iova", "driver.send_irq", "driver.memcpy_storm",
        "driver.init_remove", "several.two_channels",
    ];

    private const string NoIommuName = "noiommu";
    private static readonly string[] IommuModesWithoutNoIommu = ["type1", "type1v2", "iommufd", "iommufd-compat-type1", "iommufd-compat-type1v2"];
    private const int HugePage = 2 << 20, Half = HugePage / 2, Canary = 4096;

    /// <summary>Runs the platform cases on <paramref name="devices"/>[0] (and the two-device case with [1], if given).</summary>
    public static int RunPlatform(string[] devices)
    {
        s_device = devices[0];
        Put("conformance.device", s_device);
        var compatible = ReadCompatible(s_device);
        Put("conformance.compatible", compatible);
        if (!compatible.Contains(Zdma.Compatible, StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"vfio-guest-checks: {s_device} is not a ZynqMP GDMA channel ({Zdma.Compatible}); compatible: {compatible}");
            return 2;
        }

        ReserveHugePages();
        RunModes(PlatformModes(), PlatformCases, mode =>
        {
            PlatformDmaCases(mode);
            PlatformDeviceCases(mode);
            PlatformDriverCases(mode);
            InitRemove(mode, () => PlatformCycle(mode, s_device));
            TwoChannels(mode, devices.Length > 1 ? devices[1] : null);
        });
        Put("conformance.done", true);
        return 0;
    }

    private static List<IommuMode> PlatformModes()
    {
        const string NoIommu = "not applicable: QEMU's xlnx-zcu102 models no SMMU, so the ZCU102 guest has no IOMMU: no-IOMMU is its one mode";
        List<IommuMode> modes = [.. IommuModesWithoutNoIommu.Select(name => new IommuMode(name, NoIommu, null))];
        modes.Add(new(NoIommuName, null, OpenNoIommu));
        return modes;
    }

    private static Session OpenNoIommu(string device)
    {
        var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = true });
        try
        {
            var dev = container.OpenGroupOf(device).OpenDevice(device);
            var space = dev.PhysicalDmaSpace ?? throw new InvalidOperationException($"{device} was opened behind an IOMMU, not in no-IOMMU mode");
            return new Session(dev, space, container, 0);
        }
        catch
        {
            container.Dispose();
            throw;
        }
    }

    // ------------------------------------------------------------------ DMA mapping, as no-IOMMU answers it

    private static void PlatformDmaCases(IommuMode mode)
    {
        Case("dma_map_unmap.anonymous", mode, s =>
        {
            using var buffer = DmaBuffer.Allocate(Environment.SystemPageSize);
            return Refusal(() => s.Dma.MapDma(buffer).Dispose(), "dma_map_unmap.anonymous", mode, "huge pages");
        });

        Case("dma_map_unmap.hugetlb_2mb", mode, s =>
        {
            using var buffer = DmaBuffer.Allocate(HugePage, hugePages: true);
            var mapping = s.Dma.MapDma(buffer);
            var physical = mapping.Iova;
            Detail("dma_map_unmap.hugetlb_2mb", mode, "physical", Hex(physical));
            mapping.Dispose();
            // The address is the page's own: 2 MiB aligned, not 0, and the same when asked again.
            using var again = s.Dma.MapDma(buffer);
            return physical == 0 || physical % HugePage != 0 ? $"FAIL: physical address {Hex(physical)} is not a 2 MiB page's"
                : again.Iova != physical ? $"FAIL: the second mapping says {Hex(again.Iova)}, the first {Hex(physical)}"
                : "pass";
        });

        Record("dma_map_unmap.hugetlb_1gb", mode.Name,
            $"skipped: the ZCU102 guest has {MemTotalKb()} kB of RAM and DmaBuffer allocates 2 MiB huge pages only");

        Case("dma_map_unmap.chosen_iova", mode, s =>
        {
            using var buffer = DmaBuffer.Allocate(HugePage, hugePages: true);
            return Refusal(() => s.Dma.MapDma(buffer, 0x10_0000).Dispose(), "dma_map_unmap.chosen_iova", mode, "cannot be chosen");
        });

        Record("dma_map_limit.unmap_range", mode.Name,
            "not applicable: without an IOMMU there is no IOVA space: the device is given physical addresses, and no range limits them");
    }

    /// <summary>A refusal the case expects: the library refuses the argument before the kernel is asked
    /// (ArgumentException, recorded with the argument's name), and its message names the device and the way out.</summary>
    private static string Refusal(Action map, string name, IommuMode mode, string hint)
    {
        try
        {
            map();
            return "FAIL: no-IOMMU mapped it";
        }
        catch (ArgumentException e)
        {
            Detail(name, mode, "message", e.Message.ReplaceLineEndings(" "));
            return e.Message.Contains(hint, StringComparison.Ordinal) && e.Message.Contains(s_device, StringComparison.Ordinal)
                ? $"refused argument {e.ParamName}"
                : $"FAIL: the refusal does not name the device and the fix ('{hint}'): {e.Message}";
        }
    }

    // ------------------------------------------------------------------ device

    private static void PlatformDeviceCases(IommuMode mode)
    {
        Case("device.regions", mode, s =>
        {
            var dev = s.Device;
            var info = dev.GetRegionInfo(0);
            Detail("device.regions", mode, "region0", $"size {Hex(info.Size)} flags {Hex(info.Flags)}");
            Detail("device.regions", mode, "counts", $"regions {dev.RegionCount}, irqs {dev.IrqCount}, platform {dev.IsPlatform}");
            using var regs = dev.MapRegion(0);
            var mask = regs.Read32(0x104); // IMR
            Detail("device.regions", mode, "imr", Hex(mask));
            var outOfBounds = false;
            try
            {
                regs.Read32(regs.Length);
            }
            catch (ArgumentOutOfRangeException e) when (e.Message.Contains("outside the region", StringComparison.Ordinal))
            {
                outOfBounds = true; // a caller's mistake: refused before any access, naming the region and the offset
            }

            return !dev.IsPlatform || dev.RegionCount != 1 || dev.IrqCount != 1 ? $"FAIL: {dev.RegionCount} regions, {dev.IrqCount} irqs, platform {dev.IsPlatform}"
                : info.Size != 0x1000 || !regs.IsMapped ? $"FAIL: region 0 is {Hex(info.Size)} bytes, mapped {regs.IsMapped}"
                : (mask & ~Zdma.AllInterrupts) != 0 ? $"FAIL: IMR reads {Hex(mask)}: not a ZDMA channel's 12 interrupt bits"
                : !outOfBounds ? "FAIL: a read past the region did not throw"
                : "pass";
        });

        Case("device.irq_software_trigger", mode, s =>
        {
            var info = s.Device.GetIrqInfo(0);
            Detail("device.irq_software_trigger", mode, "irq0", $"count {info.Count}, flags {Hex(info.Flags)}, automasked {info.IsAutomasked}");
            using var irq = s.Device.EnableInterrupt(0);
            var before = irq.Wait(TimeSpan.Zero);
            irq.Trigger();
            var after = irq.Wait(TimeSpan.FromSeconds(1));
            irq.Unmask();
            return before != 0 ? $"FAIL: {before} interrupt(s) before the trigger"
                : after != 1 ? $"FAIL: the trigger delivered {after}"
                : "pass";
        });

        Case("device.reset", mode, s => s.Device.CanReset
            ? Reset(s)
            : "skipped: vfio-platform has no reset handler for xlnx,zynqmp-dma-1.0 (VFIO_DEVICE_FLAGS_RESET clear; the rig boots with vfio-platform.reset_required=0)");
    }

    private static string Reset(Session s)
    {
        s.Device.Reset();
        return "pass";
    }

    // ------------------------------------------------------------------ the memcpy driver

    private static void PlatformDriverCases(IommuMode mode)
    {
        Case("driver.memcpy_success", mode, s =>
        {
            using var buffer = DmaBuffer.Allocate(HugePage, hugePages: true);
            using var mapping = s.Dma.MapDma(buffer);
            using var zdma = new Zdma(s.Device);
            foreach (var size in (ReadOnlySpan<int>)[1, 64, 4096, 65536, Half - Canary])
            {
                var bytes = buffer.Span;
                Random.Shared.NextBytes(bytes[..size]);
                bytes[Half..].Fill(0xA5);
                if (!zdma.Memcpy(mapping.Iova, mapping.Iova + Half, (uint)size, DmaTimeout))
                    return $"FAIL: {size} bytes: no DMA_DONE (ISR {Hex(zdma.InterruptStatus)}, state {zdma.State})";
                if (!Same(bytes[..size], bytes.Slice(Half, size)))
                    return $"FAIL: {size} bytes: the destination differs from the source";
                if (!All(bytes[(Half + size)..], 0xA5))
                    return $"FAIL: {size} bytes: the channel wrote past the destination";
            }

            Detail("driver.memcpy_success", mode, "sizes", $"1, 64, 4096, 65536, {Half - Canary}");
            return "pass";
        });

        Case("driver.memcpy_polled", mode, s =>
        {
            using var buffer = DmaBuffer.Allocate(HugePage, hugePages: true);
            using var mapping = s.Dma.MapDma(buffer);
            using var zdma = new Zdma(s.Device);
            buffer.Span[..4096].Fill(0x3C);
            if (!zdma.Memcpy(mapping.Iova, mapping.Iova + Half, 4096, DmaTimeout, byInterrupt: false))
                return $"FAIL: DMA_DONE never showed in ISR ({Hex(zdma.InterruptStatus)})";
            var spurious = zdma.Irq.Wait(TimeSpan.FromMilliseconds(200));
            return !All(buffer.Span.Slice(Half, 4096), 0x3C) ? "FAIL: the destination differs"
                : spurious != 0 ? $"FAIL: {spurious} interrupt(s) with DMA_DONE masked"
                : "pass";
        });

        Record("driver.memcpy_from_unmapped_iova", mode.Name,
            "not applicable: without an IOMMU no address is unmapped: the device reaches all of memory (why no-IOMMU needs its explicit flag)");

        Case("driver.send_irq", mode, s =>
        {
            // The channel's own interrupt, level-triggered: masked, a finished copy raises nothing; unmasking
            // the pending DMA_DONE raises the line, and the VFIO eventfd counts it once (automasked) until
            // the driver clears the status and unmasks.
            using var buffer = DmaBuffer.Allocate(HugePage, hugePages: true);
            using var mapping = s.Dma.MapDma(buffer);
            using var zdma = new Zdma(s.Device);
            zdma.Prepare(interruptOnDone: false);
            zdma.Start(mapping.Iova, mapping.Iova + Half, 512);
            var masked = zdma.Irq.Wait(TimeSpan.FromMilliseconds(200));
            var pending = zdma.InterruptStatus & Zdma.DmaDone;
            zdma.EnableDoneInterrupt();
            var raised = zdma.Irq.Wait(TimeSpan.FromSeconds(1));
            var again = zdma.Irq.Wait(TimeSpan.FromMilliseconds(200)); // automasked: the line is still high, nothing more arrives
            zdma.Acknowledge();
            var after = zdma.Irq.Wait(TimeSpan.FromMilliseconds(200)); // cleared, then unmasked: quiet
            Detail("driver.send_irq", mode, "counts", $"masked {masked}, raised {raised}, while automasked {again}, after acknowledge {after}");
            return masked != 0 ? $"FAIL: {masked} interrupt(s) with DMA_DONE masked"
                : pending == 0 ? "FAIL: DMA_DONE not pending in ISR"
                : raised != 1 ? $"FAIL: unmasking the pending DMA_DONE delivered {raised}"
                : again != 0 || after != 0 ? $"FAIL: {again} more while automasked, {after} after the acknowledge"
                : "pass";
        });

        Case("driver.memcpy_storm", mode, s =>
        {
            const int Copies = 2000, Size = 64 * 1024;
            using var buffer = DmaBuffer.Allocate(HugePage, hugePages: true);
            using var mapping = s.Dma.MapDma(buffer);
            using var zdma = new Zdma(s.Device);
            buffer.Span[..Size].Fill(0x5A);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < Copies; i++)
            {
                if (!zdma.Memcpy(mapping.Iova, mapping.Iova + Half + (ulong)(i % 8 * Size), Size, DmaTimeout))
                    return $"FAIL: copy {i}: no DMA_DONE";
            }

            clock.Stop();
            Detail("driver.memcpy_storm", mode, "copies", $"{Copies} x {Size} bytes, each completed by its interrupt");
            Detail("driver.memcpy_storm", mode, "MBps", Math.Round(Copies * (double)Size / clock.Elapsed.TotalSeconds / 1e6, 1));
            return All(buffer.Span.Slice(Half, 8 * Size), 0x5A) ? "pass" : "FAIL: a destination differs";
        });
    }

    /// <summary>Open the channel, copy 256 bytes on its interrupt, close everything.</summary>
    private static string? PlatformCycle(IommuMode mode, string device)
    {
        using var session = mode.Open!(device);
        using var buffer = DmaBuffer.Allocate(HugePage, hugePages: true);
        using var mapping = session.Dma.MapDma(buffer);
        using var zdma = new Zdma(session.Device);
        buffer.Span[..256].Fill(0x11);
        return zdma.Memcpy(mapping.Iova, mapping.Iova + Half, 256, DmaTimeout) && All(buffer.Span.Slice(Half, 256), 0x11)
            ? null
            : "the memcpy did not copy";
    }

    /// <summary>Two channels, each in its own no-IOMMU group and container, copying side by side; one closed
    /// while the other keeps working.</summary>
    private static void TwoChannels(IommuMode mode, string? second)
    {
        const string Name = "several.two_channels";
        if (second is null)
        {
            Record(Name, mode.Name, "skipped: one channel given (--conformance FIRST,SECOND runs this case)");
            return;
        }

        Session? first = null;
        Zdma? a = null;
        try
        {
            first = mode.Open!(s_device);
            using var other = mode.Open!(second);
            using var buffer = DmaBuffer.Allocate(HugePage, hugePages: true);
            using var mapping = first.Dma.MapDma(buffer);
            using var otherMapping = other.Dma.MapDma(buffer); // the same page: no-IOMMU has one address space
            a = new Zdma(first.Device);
            using var b = new Zdma(other.Device);
            buffer.Span[..4096].Fill(0x77);
            var bothCopied = a.Memcpy(mapping.Iova, mapping.Iova + Half, 4096, DmaTimeout)
                && b.Memcpy(otherMapping.Iova, otherMapping.Iova + Half + 4096, 4096, DmaTimeout);
            a.Dispose();
            a = null;
            first.Dispose();
            first = null;
            buffer.Span[..4096].Fill(0x78);
            var afterClose = b.Memcpy(otherMapping.Iova, otherMapping.Iova + Half + 8192, 4096, DmaTimeout);
            Detail(Name, mode, "channels", $"{s_device} (closed first), {second}");
            Record(Name, mode.Name,
                !bothCopied || !All(buffer.Span.Slice(Half, 8192), 0x77) ? "FAIL: the two channels did not both copy"
                : !afterClose || !All(buffer.Span.Slice(Half + 8192, 4096), 0x78) ? "FAIL: the second channel stopped when the first was closed"
                : "pass");
        }
        catch (Exception e)
        {
            Record(Name, mode.Name, $"FAIL: {Describe(e)}");
        }
        finally
        {
            a?.Dispose(); // only when a step above threw
            first?.Dispose();
        }
    }

    private static string ReadCompatible(string device)
    {
        var path = $"/sys/bus/platform/devices/{device}/of_node/compatible";
        return File.Exists(path) ? File.ReadAllText(path).Replace('\0', ' ').Trim() : "none";
    }
}
