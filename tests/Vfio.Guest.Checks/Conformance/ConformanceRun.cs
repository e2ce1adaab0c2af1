using System.Diagnostics;
using System.Globalization;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Dma;
using Vfio.Platform.Interrupts;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>The kernel selftests' DMA-mapping, device and memcpy-driver cases (tools/testing/selftests/vfio,
/// Linux 6.17+), ported to Vfio.Platform and run on QEMU's edu in every IOMMU mode this guest has.
/// Prints <c>case.NAME.MODE=RESULT</c> per cell, RESULT one of <c>pass</c>, <c>refused ERRNO</c> (the kernel
/// said no, as the case expects), <c>skipped: why</c>, <c>not applicable: why</c>, <c>FAIL: what</c>;
/// <c>detail.NAME.MODE.KEY=VALUE</c> lines for what was measured, and the table as <c>#</c> lines.</summary>
internal static partial class ConformanceRun
{
    public static readonly string[] Cases =
    [
        "dma_map_unmap.anonymous", "dma_map_unmap.hugetlb_2mb", "dma_map_unmap.hugetlb_1gb", "dma_map_limit.unmap_range", "dma_map_limit.unmap_all", "dma_map_limit.overflow",
        "dma_mapping_mmio.map_full_bar", "dma_mapping_mmio.map_partial_bar", "dma_mapping_mmio.map_bar_misaligned",
        "device.config_space", "device.bars", "device.msi_software_trigger", "device.reset",
        "driver.memcpy_success", "driver.memcpy_from_unmapped_iova", "driver.memcpy_to_unmapped_iova", "driver.send_msi", "driver.send_intx",
        "driver.mix_and_match", "driver.memcpy_storm", "driver.init_remove",
    ];

    // Fixed IOVAs below the edu's 28-bit mask, away from the SMMU's MSI window (0x8000000, 1 MiB) and the
    // Intel IOMMU's (0xfee00000). The destination sits between two canary pages in one mapping.
    private const ulong SourceIova = 0x10_0000, GuardedIova = 0x20_0000, DestinationIova = GuardedIova + 0x1000, UnmappedIova = 0xF00_0000;
    private const uint CopySize = 2048; // below the end of the edu's buffer (QEMU 7.2 aborts on a DMA that reaches it)
    private static readonly TimeSpan DmaTimeout = TimeSpan.FromSeconds(3);

    private static readonly Dictionary<(string Case, string Mode), string> Results = [];
    private static string s_device = "";

    public static int Run(string device, bool dmaMappingOnly = false)
    {
        if (device.Contains(',', StringComparison.Ordinal))
        {
            return RunSeveral(device.Split(','));
        }

        s_device = device;
        Put("conformance.device", device);
        var host = Vfio.Platform.Discovery.HostDevice.Find(device);
        Put("conformance.pci", host.VendorId is null ? "none" : FormattableString.Invariant($"{host.VendorId:x4}:{host.DeviceId:x4}"));
        Put("conformance.group", host.IommuGroup?.ToString(CultureInfo.InvariantCulture) ?? "none");
        // QEMU's nvme has its own cases (MSI-X, the table in BAR0, FLR, the admin queue) and carries the
        // iommufd setup test; everything else is the edu's.
        var nvme = host.VendorId == Nvme.VendorId && host.DeviceId == Nvme.DeviceId;
        var cases = nvme ? NvmeCases : dmaMappingOnly ? [.. Cases.Where(c => c.StartsWith("dma_map_", StringComparison.Ordinal))] : Cases;
        if (!nvme)
        {
            ReserveHugePages();
        }

        RunModes(IommuMode.For(device), cases, mode =>
        {
            if (nvme)
            {
                NvmeDeviceCases(mode);
                NvmeReadCase(mode);
                IommufdSetupCases(mode);
                return;
            }

            DmaMappingCases(mode);
            if (dmaMappingOnly)
            {
                return;
            }

            MmioMappingCases(mode);
            DeviceCases(mode);
            DriverCases(mode);
            InitRemove(mode);
        });
        Put("conformance.done", true);
        return 0;
    }

    // ------------------------------------------------------------------ DMA mapping (vfio_dma_mapping_test)

    private static void DmaMappingCases(IommuMode mode)
    {
        Case("dma_map_unmap.anonymous", mode, s => MapUnmap(s, "dma_map_unmap.anonymous", mode, DmaBuffer.Allocate(Environment.SystemPageSize)));
        Case("dma_map_unmap.hugetlb_2mb", mode, s => MapUnmap(s, "dma_map_unmap.hugetlb_2mb", mode, DmaBuffer.Allocate(2 << 20, hugePages: true)));
        if (Gigantic.Value is { } unavailable)
        {
            Record("dma_map_unmap.hugetlb_1gb", mode.Name, unavailable);
        }
        else
        {
            Case("dma_map_unmap.hugetlb_1gb", mode, s => MapUnmap(s, "dma_map_unmap.hugetlb_1gb", mode, DmaBuffer.AllocateHugePages(DmaBuffer.HugePage1G, DmaBuffer.HugePage1G)));
        }

        Case("dma_map_limit.unmap_range", mode, s =>
        {
            var ranges = s.Dma.GetIommuInfo().IovaRanges;
            var iova = ranges[^1].End & ~(ulong)(Environment.SystemPageSize - 1);
            Detail("dma_map_limit.unmap_range", mode, "iova", Hex(iova));
            using var buffer = DmaBuffer.Allocate(Environment.SystemPageSize);
            var mapping = s.Dma.MapDma(buffer, iova);
            mapping.Dispose(); // the library checks the kernel unmapped the whole mapping
            return Gone(s, "dma_map_limit.unmap_range", mode, iova, (ulong)buffer.Length) ?? "pass";
        });

        Case("dma_map_limit.unmap_all", mode, s =>
        {
            // The selftest maps the last page of the highest range and unmaps everything; here a second
            // mapping the library places rides along, so "all" is more than one.
            var page = (ulong)Environment.SystemPageSize;
            var top = s.Dma.GetIommuInfo().IovaRanges[^1].End & ~(page - 1);
            using var last = DmaBuffer.Allocate((long)page);
            using var other = DmaBuffer.Allocate(2 * (long)page);
            using var lastMapping = s.Dma.MapDma(last, top);
            using var otherMapping = s.Dma.MapDma(other);
            Detail("dma_map_limit.unmap_all", mode, "kernel", s.Dma is VfioContainer c
                ? c.CheckExtension((uint)VfioUapi.VFIO_UNMAP_ALL) ? "VFIO_DMA_UNMAP_FLAG_ALL (VFIO_UNMAP_ALL)" : "one unmap per mapping (no VFIO_UNMAP_ALL)"
                : "IOMMU_IOAS_UNMAP 0+UINT64_MAX");
            var unmapped = UnmapAll(s);
            Detail("dma_map_limit.unmap_all", mode, "unmapped", Hex(unmapped));
            if (unmapped != 3 * page)
            {
                return $"FAIL: unmap-all unmapped 0x{unmapped:x} bytes of 0x{3 * page:x}";
            }

            if (!lastMapping.IsUnmapped || !otherMapping.IsUnmapped)
            {
                return "FAIL: a mapping is still listed after unmap-all";
            }

            if ((Gone(s, "dma_map_limit.unmap_all", mode, top, page) ?? Gone(s, "dma_map_limit.unmap_all", mode, otherMapping.Iova, 2 * page)) is { } failure)
            {
                return failure;
            }

            var again = UnmapAll(s);
            Detail("dma_map_limit.unmap_all", mode, "again", Hex(again));
            using var remap = s.Dma.MapDma(last, top); // the IOVA is free for the library too
            return again == 0 ? "pass" : $"FAIL: a second unmap-all unmapped 0x{again:x} bytes";
        });

        Case("dma_map_limit.overflow", mode, s =>
        {
            // The selftest maps two pages at the last page of the 64-bit space: the end wraps.
            const ulong Top = ~0UL & ~0xFFFUL;
            using var buffer = DmaBuffer.Allocate(2 * Environment.SystemPageSize);
            string map;
            try
            {
                s.Dma.MapDma(buffer, Top).Dispose();
                return "FAIL: mapping two pages at 0xfffffffffffff000 succeeded";
            }
            catch (VfioException e)
            {
                map = e.ErrnoName;
            }

            var (errno, _) = RawUnmap.Unmap(s, Top, (ulong)buffer.Length);
            var unmap = errno == 0 ? "no error" : ErrnoNames.Of(errno);
            Detail("dma_map_limit.overflow", mode, "map", map);
            Detail("dma_map_limit.overflow", mode, "unmap", unmap);
            // Linux 6.18's selftest expects EOVERFLOW from both; older kernels answer EINVAL for the map.
            return errno == 0 ? $"FAIL: unmapping across the top succeeded (map {map})" : $"refused {map}/{unmap}";
        });
    }

    private static ulong UnmapAll(Session s) => s.Dma switch
    {
        VfioContainer container => container.UnmapAllDma(),
        Vfio.Platform.Iommufd.IoAddressSpace space => space.UnmapAllDma(),
        _ => throw new InvalidOperationException($"no unmap-all for {s.Dma.GetType().Name}"),
    };

    private static string MapUnmap(Session s, string name, IommuMode mode, DmaBuffer buffer)
    {
        using (buffer)
        {
            var mapping = s.Dma.MapDma(buffer);
            var iova = mapping.Iova;
            Detail(name, mode, "iova", Hex(iova));
            Detail(name, mode, "length", Hex((ulong)buffer.Length));
            buffer.Span.Fill(0x5A); // still ordinary memory for the CPU while mapped
            mapping.Dispose(); // throws if the kernel unmapped less than the whole mapping
            if (Gone(s, name, mode, iova, (ulong)buffer.Length) is { } failure)
            {
                return failure;
            }

            // Gone for the library too: the same IOVA takes a new mapping.
            using var again = s.Dma.MapDma(buffer, iova);
            return "pass";
        }
    }

    /// <summary>A second unmap of an unmapped range: type1 answers success with 0 bytes, iommufd ENOENT.</summary>
    private static string? Gone(Session s, string name, IommuMode mode, ulong iova, ulong length)
    {
        var (errno, unmapped) = RawUnmap.Unmap(s, iova, length);
        Detail(name, mode, "second-unmap", errno == 0 ? $"0x{unmapped:x} bytes" : ErrnoNames.Of(errno));
        return errno == 0 && unmapped != 0 ? $"FAIL: a second unmap still unmapped 0x{unmapped:x} bytes" : null;
    }

    // ------------------------------------------------------------------ device (vfio_pci_device_test)

    private static void DeviceCases(IommuMode mode)
    {
        Case("device.config_space", mode, s =>
        {
            using var config = s.Device.MapRegion(VfioUapi.VFIO_PCI_CONFIG_REGION_INDEX);
            var vendor = config.Read16(0x00);
            var device = config.Read16(0x02);
            var sysVendor = Convert.ToUInt16(File.ReadAllText($"/sys/bus/pci/devices/{s_device}/vendor").Trim(), 16);
            var sysDevice = Convert.ToUInt16(File.ReadAllText($"/sys/bus/pci/devices/{s_device}/device").Trim(), 16);
            Detail("device.config_space", mode, "ids", FormattableString.Invariant($"{vendor:x4}:{device:x4}"));
            if (vendor != sysVendor || device != sysDevice)
            {
                return FormattableString.Invariant($"FAIL: config space says {vendor:x4}:{device:x4}, sysfs {sysVendor:x4}:{sysDevice:x4}");
            }

            s.Device.SetPciBusMaster(false);
            var off = (config.Read16(0x04) & 4) != 0;
            s.Device.SetPciBusMaster(true);
            var on = (config.Read16(0x04) & 4) != 0;
            Detail("device.config_space", mode, "bme", $"{off}->{on}");
            return !off && on ? "pass" : $"FAIL: Bus Master Enable read {off} after clearing, {on} after setting";
        });

        Case("device.bars", mode, s =>
        {
            var seen = new List<string>();
            for (var bar = 0; bar <= 5; bar++)
            {
                var info = s.Device.GetRegionInfo(bar);
                if (info.Size == 0 || !info.CanMmap)
                {
                    continue;
                }

                using var region = s.Device.MapRegion(bar);
                if (!region.IsMapped || (ulong)region.Length != info.Size)
                {
                    return $"FAIL: BAR{bar} of 0x{info.Size:x} bytes mapped {region.IsMapped} with length 0x{region.Length:x}";
                }

                seen.Add($"{bar}:0x{info.Size:x}");
            }

            Detail("device.bars", mode, "mapped", string.Join(",", seen));
            return seen.Count > 0 ? "pass" : "FAIL: no mmappable BAR";
        });

        Case("device.msi_software_trigger", mode, s =>
        {
            var msi = s.Device.EnableInterrupts(VfioUapi.VFIO_PCI_MSI_IRQ_INDEX, 1)[0];
            var before = msi.Wait(TimeSpan.Zero);
            msi.Trigger(); // VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER
            var after = msi.Wait(TimeSpan.FromSeconds(1));
            var again = msi.Wait(TimeSpan.Zero);
            msi.Dispose(); // disables MSI: the index's last vector
            Detail("device.msi_software_trigger", mode, "counts", $"{before},{after},{again}");
            return (before, after, again) == (0, 1, 0) ? "pass" : $"FAIL: eventfd read {before} before, {after} after the trigger, {again} then";
        });

        Case("device.reset", mode, s =>
        {
            if (!s.Device.CanReset)
            {
                return "skipped: the kernel reports no reset for the device (VFIO_DEVICE_FLAGS_RESET clear: edu has no FLR or PM capability and sits on the root bus, so no bus reset)";
            }

            s.Device.Reset();
            using var edu = new Edu(s.Device);
            return edu.IsAlive() ? "pass" : "FAIL: the device does not answer after VFIO_DEVICE_RESET";
        });
    }

    // ------------------------------------------------------------------ memcpy driver (vfio_pci_driver_test)

    private sealed class Driver : IDisposable
    {
        public Driver(Session session)
        {
            Session = session;
            Edu = new Edu(session.Device);
            // The edu's DMA and its MSI are memory writes by the device: Bus Master Enable first
            // (QEMU drops them silently otherwise).
            session.Device.SetPciBusMaster(true);
            Source = DmaBuffer.Allocate(0x1000);
            Guarded = DmaBuffer.Allocate(0x3000);
            SourceMapping = session.Dma.MapDma(Source, SourceIova);
            GuardedMapping = session.Dma.MapDma(Guarded, GuardedIova);
            Msi = session.Device.EnableInterrupts(VfioUapi.VFIO_PCI_MSI_IRQ_INDEX, 1)[0];
        }

        public Session Session { get; }

        public Edu Edu { get; }

        public DmaBuffer Source { get; }

        public DmaBuffer Guarded { get; }

        public DmaMapping SourceMapping { get; }

        public DmaMapping GuardedMapping { get; }

        public VfioInterrupt? Msi { get; set; }

        public Span<byte> Destination => Guarded.Span.Slice(0x1000, 0x1000);

        public void Fill(byte source, byte guarded)
        {
            Source.Span.Fill(source);
            Guarded.Span.Fill(guarded);
        }

        public void Dispose()
        {
            Msi?.Dispose();
            Edu.Dispose();
            SourceMapping.Dispose();
            GuardedMapping.Dispose();
            Source.Dispose();
            Guarded.Dispose();
        }
    }

    private static void DriverCases(IommuMode mode)
    {
        Session session;
        try
        {
            session = mode.Open!(s_device);
        }
        catch (Exception e)
        {
            foreach (var name in Cases.Where(c => c.StartsWith("driver.", StringComparison.Ordinal) && c != "driver.init_remove"))
            {
                Record(name, mode.Name, $"FAIL: opening the device: {Describe(e)}");
            }

            return;
        }

        using (session)
        {
            using var driver = new Driver(session);
            Detail("driver", mode, "edu.id", Hex(driver.Edu.Identify()));
            DriverCase("driver.memcpy_success", mode, () =>
            {
                driver.Fill((byte)'x', (byte)'y');
                Random.Shared.NextBytes(driver.Source.Span[..(int)CopySize]);
                if (!driver.Edu.Memcpy(SourceIova, DestinationIova, CopySize, DmaTimeout))
                {
                    return "FAIL: the edu's DMA did not finish";
                }

                return Same(driver.Destination[..(int)CopySize], driver.Source.Span[..(int)CopySize])
                    ? NoMsi(driver) ?? "pass"
                    : "FAIL: the destination differs from the source";
            });

            DriverCase("driver.memcpy_from_unmapped_iova", mode, () =>
            {
                // Load the edu's buffer with a known pattern, so what the blocked read leaves there shows.
                driver.Fill((byte)'p', (byte)'c');
                _ = driver.Edu.Dma(SourceIova, 0, CopySize, toRam: false, DmaTimeout);
                driver.Source.Span.Fill((byte)'x');
                var faults = Faults();
                var done = driver.Edu.Memcpy(UnmappedIova, DestinationIova, CopySize, DmaTimeout);
                Detail("driver.memcpy_from_unmapped_iova", mode, "faults", FaultNote(faults));
                var landed = driver.Destination[..(int)CopySize];
                Detail("driver.memcpy_from_unmapped_iova", mode, "destination",
                    All(landed, (byte)'p') ? "the edu's old buffer (the blocked read changed nothing in it)"
                    : All(landed, 0) ? "zeros (QEMU reads 0 for the blocked read)" : All(landed, 0xFF) ? "0xff bytes" : "other bytes");
                return !done ? "FAIL: the edu's DMA did not finish"
                    : !All(driver.Guarded.Span[..0x1000], (byte)'c') || !All(driver.Guarded.Span[0x2000..], (byte)'c') ? "FAIL: a canary page around the destination changed"
                    : !All(driver.Source.Span, (byte)'x') ? "FAIL: the source changed"
                    : !driver.Edu.IsAlive() ? "FAIL: the device stopped answering" : NoMsi(driver) ?? "pass";
            });

            DriverCase("driver.memcpy_to_unmapped_iova", mode, () =>
            {
                // Linux's SMMUv3 driver logs its events rate-limited (10 per 5 s): the previous case
                // used them up, and this case's fault would not show.
                if (Faults().Any(l => l.Contains("smmu", StringComparison.OrdinalIgnoreCase)))
                {
                    Thread.Sleep(TimeSpan.FromSeconds(5.5));
                }

                driver.Fill((byte)'x', (byte)'c');
                var faults = Faults();
                var done = driver.Edu.Memcpy(SourceIova, UnmappedIova, CopySize, DmaTimeout);
                Detail("driver.memcpy_to_unmapped_iova", mode, "faults", FaultNote(faults));
                return !done ? "FAIL: the edu's DMA did not finish"
                    : !All(driver.Guarded.Span, (byte)'c') ? "FAIL: the destination or a canary page changed"
                    : !All(driver.Source.Span, (byte)'x') ? "FAIL: the source changed"
                    : !driver.Edu.IsAlive() ? "FAIL: the device stopped answering" : NoMsi(driver) ?? "pass";
            });

            DriverCase("driver.send_msi", mode, () => SendInterrupts(driver, driver.Msi!, "driver.send_msi", mode, unmask: false));

            DriverCase("driver.send_intx", mode, () =>
            {
                // MSI off (the edu then raises INTx), INTx on; back to MSI afterwards for the next cases.
                driver.Msi!.Dispose();
                driver.Msi = null;
                using var intx = session.Device.EnableInterrupt(VfioUapi.VFIO_PCI_INTX_IRQ_INDEX);
                var result = SendInterrupts(driver, intx, "driver.send_intx", mode, unmask: true);
                intx.Dispose();
                driver.Msi = session.Device.EnableInterrupts(VfioUapi.VFIO_PCI_MSI_IRQ_INDEX, 1)[0];
                return result;
            });

            DriverCase("driver.mix_and_match", mode, () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    driver.Fill((byte)'x', (byte)'y');
                    if (!driver.Edu.Memcpy(SourceIova, DestinationIova, CopySize, DmaTimeout) || !Same(driver.Destination[..(int)CopySize], driver.Source.Span[..(int)CopySize]))
                    {
                        return $"FAIL: memcpy {i} did not copy";
                    }

                    _ = driver.Edu.Memcpy(UnmappedIova, DestinationIova, CopySize, DmaTimeout);
                    driver.Edu.Raise(1);
                    var count = driver.Msi!.Wait(TimeSpan.FromSeconds(2));
                    driver.Edu.Acknowledge(1);
                    if (count != 1)
                    {
                        return $"FAIL: the MSI of round {i} counted {count}";
                    }
                }

                return "pass";
            });

            DriverCase("driver.memcpy_storm", mode, () =>
            {
                const int Count = 10, Size = 1024;
                driver.Fill(0, (byte)'y');
                Random.Shared.NextBytes(driver.Source.Span[..Size]);
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < Count; i++)
                {
                    if (!driver.Edu.Memcpy(SourceIova, DestinationIova, Size, DmaTimeout))
                    {
                        return $"FAIL: memcpy {i} did not finish";
                    }
                }

                var seconds = clock.Elapsed.TotalSeconds;
                Detail("driver.memcpy_storm", mode, "copies", $"{Count} x {Size} B in {seconds:F2} s = {Count * Size / seconds / 1e6:F4} MB/s (the edu finishes each DMA 100 ms of virtual time after its start)");
                return Same(driver.Destination[..Size], driver.Source.Span[..Size]) ? NoMsi(driver) ?? "pass" : "FAIL: the last copy differs";
            });
        }
    }

    /// <summary>The selftests' send_msi, ten times: EAGAIN (0 here) before the raise, 1 after, and the
    /// device's status acknowledged; INTx is level-triggered, so it is unmasked only after the ack.</summary>
    private static string SendInterrupts(Driver driver, VfioInterrupt irq, string name, IommuMode mode, bool unmask)
    {
        var counts = new List<ulong>();
        for (var i = 0; i < 10; i++)
        {
            var before = irq.Wait(TimeSpan.Zero);
            driver.Edu.Raise(1);
            var count = irq.Wait(TimeSpan.FromSeconds(2));
            var status = driver.Edu.Status;
            driver.Edu.Acknowledge(status);
            if (unmask)
            {
                irq.Unmask();
            }

            if (before != 0 || count != 1 || (status & 1) == 0)
            {
                return $"FAIL: round {i}: eventfd {before} before the raise, {count} after, status 0x{status:x}";
            }

            counts.Add(count);
        }

        Detail(name, mode, "interrupts", counts.Count);
        return irq.Wait(TimeSpan.FromMilliseconds(50)) == 0 ? "pass" : "FAIL: an interrupt after the last acknowledge";
    }

    private static string? NoMsi(Driver driver)
    {
        var pending = driver.Msi?.Wait(TimeSpan.Zero) ?? 0;
        return pending == 0 ? null : $"FAIL: {pending} MSI(s) nobody asked for";
    }

    /// <summary>init_remove: open, use and close the device ten times; no descriptor or mapping left.</summary>
    private static void InitRemove(IommuMode mode) => InitRemove(mode, () => Cycle(mode));

    /// <summary>init_remove with the device's own <paramref name="cycle"/> (open, use, close; null when it worked).</summary>
    private static void InitRemove(IommuMode mode, Func<string?> cycle)
    {
        const string Name = "driver.init_remove";
        try
        {
            cycle(); // the runtime's own first-use descriptors and mappings, before the baseline
            SettleFinalizers();
            var fds = Directory.GetFileSystemEntries("/proc/self/fd").Length;
            var maps = DeviceAndDmaMaps();
            for (var i = 0; i < 10; i++)
            {
                if (cycle() is { } failure)
                {
                    Record(Name, mode.Name, $"FAIL: cycle {i}: {failure}");
                    return;
                }
            }

            var fdsLeaked = Directory.GetFileSystemEntries("/proc/self/fd").Length - fds;
            var mapsLeaked = DeviceAndDmaMaps() - maps;
            Detail(Name, mode, "leaked", $"fds {fdsLeaked}, maps {mapsLeaked}");
            Record(Name, mode.Name, fdsLeaked == 0 && mapsLeaked == 0 ? "pass" : $"FAIL: {fdsLeaked} descriptors and {mapsLeaked} mappings left after 10 cycles");
        }
        catch (Exception e)
        {
            Record(Name, mode.Name, $"FAIL: {Describe(e)}");
        }
    }

    /// <summary>The mappings a device and its DMA buffers leave: shared ones (BARs, MAP_SHARED DMA buffers,
    /// huge pages) and anything of a VFIO node. The runtime's own heap and code mappings are private and
    /// grow and shrink on their own (seen in the guests: +1 to +5 private lines over ten cycles).</summary>
    private static int DeviceAndDmaMaps() =>
        File.ReadAllLines("/proc/self/maps").Count(l => l.Split(' ', 3) is [_, { Length: 4 } perms, _] && (perms[3] == 's' || l.Contains("vfio", StringComparison.Ordinal)));

    /// <summary>Runs what earlier cases left to the finalizer (objects the runtime still closes later, e.g. a
    /// SafeHandle nobody disposed), so that it does not close descriptors during the count and show a
    /// negative leak (seen once: -6 after the BAR-mapping cases).</summary>
    private static void SettleFinalizers()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static string? Cycle(IommuMode mode)
    {
        using var session = mode.Open!(s_device);
        using var driver = new Driver(session);
        driver.Fill(0x11, 0);
        if (!driver.Edu.Memcpy(SourceIova, DestinationIova, 256, DmaTimeout) || !All(driver.Destination[..256], 0x11))
        {
            return "the memcpy did not copy";
        }

        return null;
    }

    // ------------------------------------------------------------------ helpers

    private static void Case(string name, IommuMode mode, Func<Session, string> body)
    {
        try
        {
            using var session = mode.Open!(s_device);
            Record(name, mode.Name, body(session));
        }
        catch (Exception e)
        {
            Record(name, mode.Name, $"FAIL: {Describe(e)}");
        }
    }

    private static void DriverCase(string name, IommuMode mode, Func<string> body)
    {
        try
        {
            Record(name, mode.Name, body());
        }
        catch (Exception e)
        {
            Record(name, mode.Name, $"FAIL: {Describe(e)}");
        }
    }

    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";

    private static void Record(string name, string mode, string result)
    {
        Results[(name, mode)] = result;
        Put($"case.{name}.{mode}", result);
    }

    private static void Detail(string name, IommuMode mode, string key, object value) => Put($"detail.{name}.{mode.Name}.{key}", value);

    private static void Put(string key, object value) => Console.WriteLine(FormattableString.Invariant($"{key}={value}"));

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    private static bool Same(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceEqual(b);

    private static bool All(ReadOnlySpan<byte> span, byte value) => !span.ContainsAnyExcept(value);

    private static void ReserveHugePages()
    {
        const string Reserve = "/proc/sys/vm/nr_hugepages";
        if (File.Exists(Reserve))
        {
            File.WriteAllText(Reserve, "4");
            Put("conformance.hugepages", File.ReadAllText(Reserve).Trim());
        }
    }

    /// <summary>Whether a 1 GiB huge page is there, asked once: the runner asks for one at run time (one
    /// reserved at boot stays) and, when the kernel has none, says what it did. Null: one is reserved.</summary>
    private static readonly Lazy<string?> Gigantic = new(() =>
    {
        const string Pool = "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages";
        var memKb = MemTotalKb();
        if (!File.Exists(Pool))
        {
            return $"skipped: no 1 GiB huge page size in this kernel (MemTotal {memKb} kB)";
        }

        string write;
        try
        {
            File.WriteAllText(Pool, "1");
            write = "ok";
        }
        catch (IOException e)
        {
            // arm64's tinyconfig kernel: gigantic pages at run time need CONFIG_CONTIG_ALLOC, so EINVAL.
            write = e.Message.Contains("Invalid argument", StringComparison.Ordinal) ? "EINVAL" : e.Message.ReplaceLineEndings(" ");
        }

        var reserved = File.ReadAllText(Pool).Trim();
        if (reserved != "0")
        {
            Put("conformance.hugepages_1g", reserved);
            return null;
        }

        return $"skipped: no 1 GiB huge page could be reserved: writing 1 to hugepages-1048576kB/nr_hugepages: {write}, reads {reserved}; MemTotal {memKb} kB (a 1 GiB page needs a free, 1 GiB-aligned GiB of RAM: boot with hugepagesz=1G hugepages=1 and RAM to spare)";
    });

    private static string MemTotalKb() =>
        File.ReadAllLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0];

    /// <summary>The IOMMU fault lines in the kernel log so far (Intel: "DMAR: [DMA Read/Write ...] Request
    /// device ... fault addr"; SMMUv3: "arm-smmu-v3 ...: event 0x.. received").</summary>
    private static List<string> Faults()
    {
        try
        {
            using var dmesg = Process.Start(new ProcessStartInfo("dmesg") { RedirectStandardOutput = true })!;
            var lines = dmesg.StandardOutput.ReadToEnd().Split('\n');
            dmesg.WaitForExit();
            return [.. lines.Where(l => (l.Contains("DMAR", StringComparison.Ordinal) && l.Contains("fault", StringComparison.OrdinalIgnoreCase))
                || (l.Contains("smmu", StringComparison.OrdinalIgnoreCase) && l.Contains("event", StringComparison.Ordinal) && !l.Contains("allocated", StringComparison.Ordinal)))];
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return [];
        }
    }

    /// <summary>The fault lines that appeared since <paramref name="before"/>, with the first one quoted.
    /// The selftests do not require the fault to show: some IOMMUs only block.</summary>
    private static string FaultNote(List<string> before)
    {
        Thread.Sleep(100); // the fault interrupt is handled asynchronously
        var now = Faults();
        var fresh = now.Skip(before.Count).ToList();
        // Intel's first line is "DRHD: handling fault status reg 2"; the next one names the address.
        var telling = fresh.FirstOrDefault(l => l.Contains("addr", StringComparison.Ordinal)) ?? fresh.FirstOrDefault();
        return telling is null ? "0 (none logged)" : $"{fresh.Count}: {telling[(telling.IndexOf(']', StringComparison.Ordinal) + 1)..].Trim()}";
    }

    /// <summary>Every mode in turn: its line (runs, or why not), every case recorded "not applicable" where the
    /// mode cannot run, <paramref name="run"/> where it can; then the table.</summary>
    private static void RunModes(IReadOnlyList<IommuMode> modes, IReadOnlyList<string> cases, Action<IommuMode> run)
    {
        foreach (var mode in modes)
        {
            Put($"mode.{mode.Name}", mode.NotApplicable ?? "runs");
            if (mode.Open is null)
            {
                foreach (var name in cases)
                {
                    Record(name, mode.Name, "not applicable");
                }

                continue;
            }

            run(mode);
        }

        PrintTable(modes, cases);
    }

    private static void PrintTable(IReadOnlyList<IommuMode> modes, IReadOnlyList<string> cases)
    {
        Console.WriteLine("# case | " + string.Join(" | ", modes.Select(m => m.Name)));
        foreach (var name in cases)
        {
            Console.WriteLine($"# {name} | " + string.Join(" | ", modes.Select(m => Short(Results.GetValueOrDefault((name, m.Name), "missing")))));
        }

        var cells = Results.Values.ToList();
        Put("conformance.counts", $"pass {cells.Count(c => c == "pass")}, refused {cells.Count(c => c.StartsWith("refused", StringComparison.Ordinal))}, "
            + $"skipped {cells.Count(c => c.StartsWith("skipped", StringComparison.Ordinal))}, not applicable {cells.Count(c => c.StartsWith("not applicable", StringComparison.Ordinal))}, "
            + $"not ported {cells.Count(c => c.StartsWith("not ported", StringComparison.Ordinal))}, failed {cells.Count(c => c.StartsWith("FAIL", StringComparison.Ordinal))}");
    }

    private static string Short(string result) => result.StartsWith("not applicable", StringComparison.Ordinal) ? "n/a" : result.Split(':')[0];
}
