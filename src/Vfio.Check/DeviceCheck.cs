using System.Globalization;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Discovery;
using Vfio.Platform.Dma;
using Vfio.Platform.Interrupts;
using Vfio.Platform.Iommufd;

namespace Vfio.Check;

/// <summary>Opens one device the way Vfio.Platform does and runs every case on it. Everything it sets up
/// (interrupts, DMA mappings, region mappings) is undone before the case ends, and the device, group and
/// container or iommufd are closed at the end: vfio-check leaves the device as it found it.</summary>
internal sealed class DeviceCheck
{
    private const string Sysfs = HostDevice.DefaultSysfsRoot;
    private const int BusMaster = 1 << 2;
    private static readonly TimeSpan TriggerTimeout = TimeSpan.FromSeconds(1);

    private readonly CheckOptions _options;
    private readonly HostDevice _host;
    private readonly int _group;
    private readonly List<CheckCase> _cases = [];
    private VfioContainer? _container;
    private IommufdContext? _iommufd;
    private VfioDevice? _device;
    private string? _iommuUsed;
    private ushort? _commandBefore;

    private DeviceCheck(CheckOptions options, HostDevice host, int group)
    {
        _options = options;
        _host = host;
        _group = group;
    }

    /// <summary>Runs the check.</summary>
    /// <exception cref="DeviceNotReadyException">No such device, or it is not bound to a VFIO driver.</exception>
    public static CheckReport Run(CheckOptions options)
    {
        HostDevice host;
        try
        {
            host = HostDevice.Find(options.Device, Sysfs);
        }
        catch (VfioException e) when (e.Errno == Errno.ENODEV)
        {
            throw new DeviceNotReadyException($"no such device under {Sysfs}/bus/{{pci,platform,amba}}/devices: give its sysfs name (0000:00:01.0, ff170000.mmc).");
        }

        if (!host.IsBoundToVfio)
        {
            throw new DeviceNotReadyException(BindHint(host));
        }

        if (host.IommuGroup is not { } group)
        {
            throw new DeviceNotReadyException($"bound to {host.Driver} but it has no IOMMU group ({host.SysfsPath}/iommu_group): the kernel has no IOMMU for it and no-IOMMU mode is off (vfio.enable_unsafe_noiommu_mode=1 before binding).");
        }

        var check = new DeviceCheck(options, host, group);
        try
        {
            check.RunCases();
        }
        finally
        {
            // Closing the top object closes what it owns first: devices, then groups or address spaces.
            check._container?.Dispose();
            check._iommufd?.Dispose();
        }

        return new CheckReport(host.Name, host.Bus, host.Driver!, group, check._iommuUsed, check._cases);
    }

    /// <summary>How to hand the device to VFIO: with the library, or the sysfs steps by hand.</summary>
    private static string BindHint(HostDevice host)
    {
        var vfio = host.Bus switch
        {
            "pci" => "vfio-pci",
            "amba" => "vfio-amba",
            _ => "vfio-platform",
        };
        var path = $"{Sysfs}/bus/{host.Bus}/devices/{host.Name}";
        var unbind = host.Driver is null ? "" : $"echo {host.Name} > {path}/driver/unbind; ";
        var noIommu = host.Bus == "pci" || host.IommuGroup is not null ? "" : " (without an IOMMU: vfio.enable_unsafe_noiommu_mode=1 first)";
        return $"bound to {host.Driver ?? "no driver"}, not to a VFIO driver: hand it to {vfio} first, from C# with Vfio.Platform's " +
            $"VfioDeviceBinding.Bind(\"{host.Name}\"), or as root: {unbind}echo {vfio} > {path}/driver_override; echo {host.Name} > {Sysfs}/bus/{host.Bus}/drivers_probe{noIommu}.";
    }

    private void RunCases()
    {
        Add(DeviceCase());
        var groupNoIommu = _host.GroupNode is { } node && Path.GetFileName(node).StartsWith("noiommu-", StringComparison.Ordinal);
        Add(NoIommuCase(groupNoIommu));
        var offered = OfferedBackends();

        var choice = _options.Iommu == IommuChoice.Auto ? (groupNoIommu ? IommuChoice.NoIommu : IommuChoice.Type1) : _options.Iommu;
        var open = Open(choice);
        Add(GroupCase(choice, open));
        Add(new CheckCase("backends", "IOMMU back-ends", CheckCase.Pass, $"{offered}; used: {_iommuUsed ?? "none"}"));
        Add(open);
        if (_device is not { } device)
        {
            foreach (var (id, title) in new[] { ("regions", "regions"), ("irqs", "IRQ indexes"), ("trigger", "software trigger"), ("iova", "IOVA ranges"),
                ("dma.4k", "DMA 4 KiB"), ("dma.2m", "DMA 2 MiB huge"), ("reset", "reset"), ("config", "config space") })
            {
                Add(new CheckCase(id, title, CheckCase.Skip, "the device did not open (see the open case)"));
            }

            return;
        }

        Add(new CheckCase("info", "device info", CheckCase.Pass,
            $"{(device.IsPci ? "PCI" : device.IsPlatform ? "platform" : "other")} device, {device.RegionCount} region(s), {device.IrqCount} IRQ index(es), reset {(device.CanReset ? "offered" : "not offered")} (flags 0x{device.Flags:x})"));
        if (device.IsPci)
        {
            _commandBefore = Guarded(() => ReadConfig(device).Command);
        }

        for (var i = 0; i < device.RegionCount; i++)
        {
            var index = i;
            Add(Case($"region.{i}", RegionTitle(device, i), () => RegionCase(device, index)));
        }

        var irqs = new VfioIrqInfo?[device.IrqCount];
        for (var i = 0; i < device.IrqCount; i++)
        {
            var index = i;
            Add(Case($"irq.{i}", IrqTitle(device, i), () => IrqCase(device, index, out irqs[index])));
        }

        for (var i = 0; i < device.IrqCount; i++)
        {
            var index = i;
            Add(Case($"trigger.{i}", IrqTitle(device, i), () => TriggerCase(device, index, irqs[index])));
        }

        Add(Case("iova", "IOVA ranges", () => IovaCase(device)));
        Add(Case("dma.4k", "DMA 4 KiB", () => Dma4kCase(device)));
        Add(Case("dma.2m", "DMA 2 MiB huge", () => DmaHugeCase(device)));
        Add(Case("reset", "reset", () => ResetCase(device)));
        Add(Case("config", "config space", () => ConfigCase(device)));
    }

    private void Add(CheckCase c) => _cases.Add(c);

    /// <summary>Runs a case; a refusal it did not expect becomes a failed row with the errno and the library's hint.</summary>
    private static CheckCase Case(string id, string title, Func<CheckCase> body)
    {
        try
        {
            return body() with { Id = id, Title = title };
        }
        catch (VfioException e)
        {
            return Failed(id, title, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            return new CheckCase(id, title, CheckCase.Fail, $"{e.GetType().Name}: {OneLine(e.Message)}");
        }
    }

    private static T? Guarded<T>(Func<T> body)
        where T : struct
    {
        try
        {
            return body();
        }
        catch (VfioException)
        {
            return null; // the config case reports the same call failing, with its errno
        }
    }

    private static CheckCase Failed(string id, string title, VfioException e, string? fix = null) =>
        new(id, title, CheckCase.Fail, $"{e.Operation} on {e.Target} failed: {e.ErrnoName}", e.ErrnoName, fix ?? e.Hint ?? FixFor(e.Errno));

    /// <summary>What to do about an errno the library gave no hint for.</summary>
    private static string? FixFor(int errno) => errno switch
    {
        Errno.EBUSY => "Another process (or another open of this one) holds the device or its group: close it (QEMU, a driver, sdhci-probe) and run again.",
        Errno.EACCES or Errno.EPERM => "Run as root, or give your user the VFIO nodes (/dev/vfio/N or the device cdev, and /dev/iommu).",
        Errno.ENOMEM => "Raise the locked-memory limit (ulimit -l) or free memory.",
        _ => null,
    };

    private static CheckCase Pass(string detail) => new("", "", CheckCase.Pass, detail);

    private static CheckCase Skip(string reason) => new("", "", CheckCase.Skip, reason);

    private static CheckCase Fail(string detail, string? fix, string? errno = null) => new("", "", CheckCase.Fail, detail, errno, fix);

    private CheckCase DeviceCase()
    {
        var identity = _host.Bus == "pci"
            ? $"PCI {_host.VendorId:x4}:{_host.DeviceId:x4} class {_host.ClassCode:x6}"
            : _host.Compatible.Count > 0 ? $"{_host.Bus} {_host.Compatible[0]}" : _host.Bus;
        var cdev = _host.Cdev is null ? "no VFIO cdev" : $"cdev {_host.Cdev}";
        return new CheckCase("device", "sysfs", CheckCase.Pass, $"{identity}, driver {_host.Driver}, IOMMU group {_group}, {cdev}");
    }

    private CheckCase NoIommuCase(bool groupNoIommu)
    {
        var parameter = Read($"{Sysfs}/module/vfio/parameters/enable_unsafe_noiommu_mode");
        var mode = parameter is null ? "no vfio.enable_unsafe_noiommu_mode (kernel without CONFIG_VFIO_NOIOMMU)" : $"vfio.enable_unsafe_noiommu_mode={parameter}";
        if (groupNoIommu)
        {
            return new CheckCase("noiommu", "no-IOMMU state", CheckCase.Pass,
                $"group {_group} is a no-IOMMU group (/dev/vfio/noiommu-{_group}): the device is not isolated and its DMA reaches all memory by physical address; {mode}");
        }

        if (_host.GroupNode is not null || IommufdContext.IsAvailableFor(_host.Name))
        {
            return new CheckCase("noiommu", "no-IOMMU state", CheckCase.Pass, $"group {_group} is IOMMU-backed (isolated, DMA through IOVAs); {mode}");
        }

        return new CheckCase("noiommu", "no-IOMMU state", CheckCase.Fail, $"no /dev/vfio/{_group}, /dev/vfio/noiommu-{_group} or device cdev: nothing to open the device through; {mode}",
            Errno.NameOf(Errno.ENOENT), "Mount devtmpfs on /dev (the nodes appear when the device binds to VFIO), or create them from /sys/class/vfio*.");
    }

    /// <summary>Which back-ends the kernel offers: the container's extensions, /dev/iommu with the device's cdev,
    /// and whether /dev/vfio/vfio is iommufd's compatibility container.</summary>
    private string OfferedBackends()
    {
        string containerPart;
        try
        {
            using var probe = VfioContainer.Open();
            containerPart = $"type1 {YesNo(probe.CheckExtension(VfioUapi.VFIO_TYPE1_IOMMU))}, type1v2 {YesNo(probe.CheckExtension(VfioUapi.VFIO_TYPE1v2_IOMMU))}, " +
                $"noiommu {YesNo(probe.CheckExtension(VfioUapi.VFIO_NOIOMMU_IOMMU))}";
        }
        catch (VfioException e)
        {
            containerPart = $"no container ({e.Operation} /dev/vfio/vfio: {e.ErrnoName})";
        }

        var iommufd = File.Exists("/dev/iommu");
        var iommufdPart = !iommufd ? "iommufd no (no /dev/iommu)" : _host.Cdev is null ? "iommufd yes but the device has no cdev" : $"iommufd yes ({_host.Cdev})";
        // iommufd's compatibility container replaces VFIO's own, which comes with vfio_iommu_type1 (its
        // module parameters show in /sys/module even when built in): /dev/vfio/vfio without that module is iommufd's.
        var compat = iommufd && File.Exists("/dev/vfio/vfio") && !Directory.Exists($"{Sysfs}/module/vfio_iommu_type1");
        return $"{containerPart}, {iommufdPart}, iommufd-compat {YesNo(compat)}";
    }

    private static string YesNo(bool value) => value ? "yes" : "no";

    /// <summary>Opens the device through <paramref name="choice"/>; the case says through what, or why not.</summary>
    private CheckCase Open(IommuChoice choice)
    {
        const string Id = "open", Title = "open device";
        try
        {
            if (choice == IommuChoice.Iommufd)
            {
                _iommufd = IommufdContext.Open();
                _device = _iommufd.OpenDevice(_host.Name);
                var space = (IoAddressSpace)_device.DmaSpace!;
                _iommuUsed = "iommufd";
                return new CheckCase(Id, Title, CheckCase.Pass, $"{IommufdContext.FindCdev(_host.Name, _iommufd.Options)} bound to /dev/iommu (VFIO_DEVICE_BIND_IOMMUFD), attached to IOAS {space.Id}");
            }

            _container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = choice == IommuChoice.NoIommu });
            var group = _container.OpenGroup(_group);
            if (choice == IommuChoice.NoIommu && !group.IsNoIommu)
            {
                _container.Dispose();
                _container = null;
                return new CheckCase(Id, Title, CheckCase.Fail, $"--iommu noiommu, but group {_group} is IOMMU-backed ({group.Path})", null,
                    "The device has an IOMMU: check it with --iommu type1 or --iommu iommufd.");
            }

            _device = group.OpenDevice(_host.Name);
            _iommuUsed = _container.IommuType switch
            {
                VfioIommuType.Type1 => "type1",
                VfioIommuType.Type1v2 => "type1v2",
                VfioIommuType.NoIommu => "noiommu",
                var other => other.ToString(),
            };
            return new CheckCase(Id, Title, CheckCase.Pass, $"VFIO_GROUP_GET_DEVICE_FD through {group.Path} in a {_iommuUsed} container");
        }
        catch (VfioException e)
        {
            _container?.Dispose();
            _container = null;
            _iommufd?.Dispose();
            _iommufd = null;
            _device = null;
            return Failed(Id, Title, e, e.Errno == Errno.EPERM && e.Target!.Contains("noiommu-", StringComparison.Ordinal)
                ? "The group is a no-IOMMU group: run with --iommu noiommu (no isolation, no DMA mapping)."
                : null);
        }
    }

    /// <summary>Group viability: the kernel's answer (VFIO_GROUP_GET_STATUS, asked when the group opens) and
    /// what sysfs says each member is bound to.</summary>
    private CheckCase GroupCase(IommuChoice choice, CheckCase open)
    {
        const string Id = "group", Title = "group viable";
        var members = GroupMembers();
        var list = string.Join(", ", members.Select(m => $"{m.Name} ({m.Driver ?? "no driver"})"));
        var blocking = members.Where(m => m.Driver is not (null or "vfio-pci" or "vfio-platform" or "vfio-amba" or "pci-stub" or "pcieport")).ToList();
        if (open.Result == CheckCase.Fail && open.Detail.StartsWith("VFIO_GROUP_GET_STATUS", StringComparison.Ordinal))
        {
            return new CheckCase(Id, Title, CheckCase.Fail, $"not viable (VFIO_GROUP_GET_STATUS): members {list}", open.Errno,
                $"Bind every member of group {_group} to a VFIO driver or to none ({string.Join(", ", blocking.Select(b => b.Name))}).");
        }

        if (choice == IommuChoice.Iommufd)
        {
            // No group is opened through iommufd; binding the cdev claims DMA ownership of the whole group,
            // which the kernel refuses (EBUSY) while a member is on a kernel DMA driver.
            return blocking.Count == 0
                ? new CheckCase(Id, Title, CheckCase.Pass, $"members {list} (from sysfs: every one on a VFIO driver or none)")
                : new CheckCase(Id, Title, CheckCase.Fail, $"members {list}: {string.Join(", ", blocking.Select(b => b.Name))} on a kernel driver", null,
                    $"Bind every member of group {_group} to a VFIO driver or to none.");
        }

        return open.Result == CheckCase.Pass
            ? new CheckCase(Id, Title, CheckCase.Pass, $"viable (VFIO_GROUP_GET_STATUS), members {list}")
            : new CheckCase(Id, Title, CheckCase.Skip, $"the group did not open (see the open case); members {list}");
    }

    /// <summary>The group's members from sysfs; the device alone when sysfs lists none.</summary>
    private IReadOnlyList<VfioGroupMember> GroupMembers() =>
        VfioGroup.MembersOf(_group, Sysfs) is { Count: > 0 } members ? members : [new VfioGroupMember(_host.Name, _host.Driver)];

    private string RegionTitle(VfioDevice device, int index) => device.IsPci
        ? index switch
        {
            <= VfioUapi.VFIO_PCI_BAR5_REGION_INDEX => $"BAR{index}",
            VfioUapi.VFIO_PCI_ROM_REGION_INDEX => "ROM",
            VfioUapi.VFIO_PCI_CONFIG_REGION_INDEX => "config",
            VfioUapi.VFIO_PCI_VGA_REGION_INDEX => "VGA",
            _ => $"region {index}",
        }
        : _host.RegionName(index) ?? $"reg {index}";

    private string IrqTitle(VfioDevice device, int index) => device.IsPci
        ? index switch
        {
            VfioUapi.VFIO_PCI_INTX_IRQ_INDEX => "INTx",
            VfioUapi.VFIO_PCI_MSI_IRQ_INDEX => "MSI",
            VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX => "MSI-X",
            VfioUapi.VFIO_PCI_ERR_IRQ_INDEX => "ERR",
            VfioUapi.VFIO_PCI_REQ_IRQ_INDEX => "REQ",
            _ => $"irq {index}",
        }
        : _host.InterruptName(index) ?? $"irq {index}";

    private static CheckCase RegionCase(VfioDevice device, int index)
    {
        VfioRegionInfo info;
        try
        {
            info = device.GetRegionInfo(index);
        }
        catch (VfioException e) when (device.IsPci && index == VfioUapi.VFIO_PCI_VGA_REGION_INDEX && e.Errno == Errno.EINVAL)
        {
            return Skip("not a VGA device: the kernel has no legacy VGA region for it (EINVAL)");
        }

        if (info.Size == 0)
        {
            return Skip(device.IsPci && index <= VfioUapi.VFIO_PCI_BAR5_REGION_INDEX ? $"size 0: the device implements no BAR{index} (or it is the upper half of a 64-bit BAR)"
                : device.IsPci && index == VfioUapi.VFIO_PCI_ROM_REGION_INDEX ? "size 0: the device has no option ROM"
                : "size 0: nothing to access");
        }

        var access = string.Join(" ", new[] { info.CanRead ? "read" : null, info.CanWrite ? "write" : null, info.CanMmap ? "mmap" : null }.Where(a => a is not null));
        var detail = $"0x{info.Size:x} bytes, {(access.Length == 0 ? "no access" : access)}";
        if (info.Type is { } type)
        {
            detail += $", type {type.Type}:{type.Subtype}";
        }

        var msixMappable = info.Capabilities.Any(c => c.Id == VfioUapi.VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
        var msix = msixMappable ? "; MSI-X mappable capability: the MSI-X table inside may be mmapped too (interrupt remapping makes that safe)" : "";
        if (!info.CanMmap)
        {
            return Pass($"{detail}; not mmappable: {WhyNotMappable(device, index)}{msix}");
        }

        using var region = device.MapRegion(index);
        var mapped = region.MappedAreas;
        if (mapped.Count == 0)
        {
            return Fail($"{detail}; the kernel offers mmap but no mapping succeeded (accesses fall back to pread/pwrite; Vfio.Platform does not report mmap's errno)",
                "Check the kernel log (dmesg) for the refused mmap; a BAR the host placed below page alignment cannot be mapped.");
        }

        var areas = string.Join(", ", mapped.Select(a => $"0x{a.Offset:x}+0x{a.Length:x}"));
        return info.SparseAreas is { } sparse
            ? Pass($"{detail}; sparse mmap ({sparse.Count} area(s) offered, mapped {areas}; the rest, such as an MSI-X table, through pread/pwrite){msix}")
            : Pass($"{detail}; mmapped whole ({areas}){msix}");
    }

    private static string WhyNotMappable(VfioDevice device, int index) => device.IsPci
        ? index switch
        {
            VfioUapi.VFIO_PCI_CONFIG_REGION_INDEX => "vfio-pci virtualizes config space, reached through pread/pwrite only",
            VfioUapi.VFIO_PCI_ROM_REGION_INDEX => "the option ROM is read through pread only",
            <= VfioUapi.VFIO_PCI_BAR5_REGION_INDEX => "vfio-pci maps only page-aligned memory BARs (an I/O-port BAR, or one not page-aligned); reached through pread/pwrite",
            _ => "VFIO_REGION_INFO_FLAG_MMAP is clear; reached through pread/pwrite",
        }
        : device.IsPlatform
            ? "vfio-platform maps only regions that start and end on a page boundary; reached through pread/pwrite"
            : "VFIO_REGION_INFO_FLAG_MMAP is clear; reached through pread/pwrite";

    private static CheckCase IrqCase(VfioDevice device, int index, out VfioIrqInfo? info)
    {
        info = null;
        try
        {
            info = device.GetIrqInfo(index);
        }
        catch (VfioException e) when (device.IsPci && index == VfioUapi.VFIO_PCI_ERR_IRQ_INDEX && e.Errno == Errno.EINVAL)
        {
            return Skip("not a PCI Express device: no error-reporting index (EINVAL)");
        }

        var flags = string.Join(" ", new[]
        {
            info.SupportsEventFd ? "eventfd" : null,
            info.IsMaskable ? "maskable" : null,
            info.IsAutomasked ? "automasked" : null,
            (info.Flags & VfioUapi.VFIO_IRQ_INFO_NORESIZE) != 0 ? "noresize" : null,
        }.Where(f => f is not null));
        var none = info.Count == 0
            ? device.IsPci ? index switch
            {
                VfioUapi.VFIO_PCI_INTX_IRQ_INDEX => " (no interrupt pin)",
                VfioUapi.VFIO_PCI_MSI_IRQ_INDEX => " (no MSI capability)",
                VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX => " (no MSI-X capability)",
                _ => "",
            }
            : ""
            : "";
        return Pass($"count {info.Count}{none}, flags 0x{info.Flags:x} ({(flags.Length == 0 ? "none" : flags)})");
    }

    /// <summary>Fires the index from software (DATA_NONE | ACTION_TRIGGER) into an eventfd: nothing pending before,
    /// exactly one count after. MSI and MSI-X are enabled with one vector first; every index is disabled after.</summary>
    private static CheckCase TriggerCase(VfioDevice device, int index, VfioIrqInfo? info)
    {
        if (device.IsPci && index == VfioUapi.VFIO_PCI_ERR_IRQ_INDEX)
        {
            return Skip("not triggered: the error index tells the user of an AER error; a trigger would fake one");
        }

        if (device.IsPci && index == VfioUapi.VFIO_PCI_REQ_IRQ_INDEX)
        {
            return Skip("not triggered: the device-request index is the kernel asking for the device back; a trigger would fake that");
        }

        if (info is null)
        {
            return Skip("no IRQ info for this index (see the irq case)");
        }

        if (!info.SupportsEventFd)
        {
            return Skip($"the index cannot signal an eventfd (flags 0x{info.Flags:x})");
        }

        if (info.Count == 0)
        {
            return Skip("the index has no vectors");
        }

        var msi = device.IsPci && index is VfioUapi.VFIO_PCI_MSI_IRQ_INDEX or VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX;
        IReadOnlyList<VfioInterrupt> vectors = msi ? device.EnableInterrupts(index, 1) : [device.EnableInterrupt(index)];
        try
        {
            var irq = vectors[0];
            // The eventfd is non-blocking: a zero-timeout wait that sees nothing is a read that would give EAGAIN.
            var before = irq.Wait(TimeSpan.Zero);
            if (before != 0)
            {
                return Fail($"{before} interrupt(s) pending before the trigger: the device raised its own", "Quiesce the device (clear its interrupt cause), then run again.");
            }

            irq.Trigger();
            var count = irq.Wait(TriggerTimeout);
            if (info.IsAutomasked)
            {
                // A level-triggered line is masked by the kernel when it fires, a software trigger included
                // (vfio-platform): unmask so the index is disabled in the state it was enabled in.
                irq.Unmask();
            }

            var enabled = msi ? "enabled 1 vector, " : "";
            return count == 1
                ? Pass($"{enabled}EAGAIN before, eventfd counted 1 after DATA_NONE|ACTION_TRIGGER, disabled")
                : Fail($"{enabled}the eventfd counted {count} within {TriggerTimeout.TotalSeconds:0} s of the trigger, not 1",
                    count == 0 ? "The kernel accepted the trigger but did not signal the eventfd: check dmesg for the interrupt's setup." : "The device raised its own interrupts meanwhile: quiesce it and run again.");
        }
        finally
        {
            // The last vector's dispose disables the index (DATA_NONE | ACTION_TRIGGER with count 0).
            foreach (var vector in vectors)
            {
                vector.Dispose();
            }
        }
    }

    private static CheckCase IovaCase(VfioDevice device)
    {
        if (device.DmaSpace is not { } space)
        {
            return Skip("no-IOMMU: there is no IOVA space, the device sees physical addresses (VfioDevice.PhysicalDmaSpace gives a huge page's)");
        }

        var info = space.GetIommuInfo();
        var ranges = string.Join(", ", info.IovaRanges.Select(r => $"0x{r.Start:x}-0x{r.End:x}"));
        var pages = string.Join(" ", Enumerable.Range(0, 64).Where(b => (info.PageSizes >> b & 1) != 0).Select(b => Size(1UL << b)));
        var label = space is IoAddressSpace ? "IOVA alignment" : "page sizes";
        var available = info.DmaMappingsAvailable is { } n ? $"; {n} more mappings allowed" : "";
        return Pass($"{ranges}; {label} {(pages.Length == 0 ? "not reported" : pages)}{available}");
    }

    private static string Size(ulong bytes) => bytes switch
    {
        >= 1UL << 30 when bytes % (1UL << 30) == 0 => $"{bytes >> 30}G",
        >= 1UL << 20 when bytes % (1UL << 20) == 0 => $"{bytes >> 20}M",
        >= 1UL << 10 when bytes % (1UL << 10) == 0 => $"{bytes >> 10}K",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };

    private static CheckCase Dma4kCase(VfioDevice device)
    {
        if (device.DmaSpace is not { } space)
        {
            return NoIommuRefusal(device, 4096, hugePages: false);
        }

        using var buffer = DmaBuffer.Allocate(4096);
        ulong iova;
        using (var mapping = space.MapDma(buffer))
        {
            iova = mapping.Iova;
        }

        // The unmap returned the full size (the library checks); mapping the same IOVA again shows it is free.
        using (space.MapDma(buffer, iova))
        {
        }

        return Pass($"mapped 4 KiB of anonymous memory at IOVA 0x{iova:x}, unmapped it (full size), mapped and unmapped it again at the same IOVA");
    }

    private static CheckCase DmaHugeCase(VfioDevice device)
    {
        const long Huge = 2 << 20;
        var meminfo = MemInfo();
        var size = meminfo.GetValueOrDefault("Hugepagesize");
        if (size != 2048)
        {
            return Skip(size == 0 ? "the kernel has no huge pages (no Hugepagesize in /proc/meminfo, CONFIG_HUGETLBFS off)"
                : $"the default huge page size is {size} kB, not 2 MiB: the case maps a 2 MiB huge page");
        }

        var free = meminfo.GetValueOrDefault("HugePages_Free");
        if (free == 0)
        {
            return Skip($"no 2 MiB huge page reserved (HugePages_Total {meminfo.GetValueOrDefault("HugePages_Total")}, HugePages_Free 0): echo 1 > /proc/sys/vm/nr_hugepages, then run again");
        }

        if (device.DmaSpace is not { } space)
        {
            return NoIommuRefusal(device, Huge, hugePages: true);
        }

        using var buffer = DmaBuffer.Allocate(Huge, hugePages: true);
        // A 2 MiB-aligned IOVA (not 0), so an IOMMU with 2 MiB pages can map it as one; else the allocator's choice.
        ulong? iova = null;
        foreach (var (start, end) in space.GetIommuInfo().IovaRanges)
        {
            var aligned = Math.Max(start, (ulong)Huge);
            aligned = (aligned + (ulong)Huge - 1) / (ulong)Huge * (ulong)Huge;
            if (aligned >= start && aligned - 1 + (ulong)Huge <= end)
            {
                iova = aligned;
                break;
            }
        }

        ulong at;
        using (var mapping = space.MapDma(buffer, iova))
        {
            at = mapping.Iova;
        }

        return Pass($"mapped a 2 MiB huge page at IOVA 0x{at:x}, unmapped it (full size)");
    }

    /// <summary>In no-IOMMU mode DMA mapping must be refused; the case says so with the refusal's errno.</summary>
    private static CheckCase NoIommuRefusal(VfioDevice device, long length, bool hugePages)
    {
        var container = device.Group?.Container;
        if (container is null)
        {
            return Skip("no DMA space and no container: nothing to map through");
        }

        using var buffer = DmaBuffer.Allocate(length, hugePages);
        try
        {
            using var mapping = container.MapDma(buffer);
            return Fail($"a no-IOMMU container mapped DMA at IOVA 0x{mapping.Iova:x}: mapping should be impossible without an IOMMU", null);
        }
        catch (VfioException e)
        {
            return Skip($"no-IOMMU: mapping refused as it must be ({e.Operation}: {e.ErrnoName}, by Vfio.Platform before the kernel); the device uses physical addresses (VfioDevice.PhysicalDmaSpace, huge pages)");
        }
    }

    private CheckCase ResetCase(VfioDevice device)
    {
        if (!device.CanReset)
        {
            return Skip(device.IsPci
                ? "not offered (VFIO_DEVICE_FLAGS_RESET clear): no function-level, power-management or bus reset the kernel can use alone"
                : "not offered (VFIO_DEVICE_FLAGS_RESET clear): vfio-platform has no reset module for this device; use the device's own reset");
        }

        if (!_options.Reset)
        {
            return Skip("available, not run: it resets the device (run with --reset)");
        }

        device.Reset();
        return Pass("VFIO_DEVICE_RESET done");
    }

    private CheckCase ConfigCase(VfioDevice device)
    {
        if (!device.IsPci)
        {
            return Skip("not a PCI device: no config space");
        }

        var (vendor, id, command) = ReadConfig(device);
        var busMaster = (command & BusMaster) != 0 ? "on" : "off";
        if (_commandBefore is { } before && (before & BusMaster) == 0 && (command & BusMaster) != 0)
        {
            return Fail($"Bus Master Enable is on after the cases, off before (command 0x{before:x4} -> 0x{command:x4})", "A library bug: nothing here sets Bus Master; report it.");
        }

        if (vendor != _host.VendorId || id != _host.DeviceId)
        {
            return Fail($"config space says {vendor:x4}:{id:x4}, sysfs {_host.VendorId:x4}:{_host.DeviceId:x4}", "The config region read the wrong device, or the device is not responding (0xffff).");
        }

        return Pass($"vendor:device {vendor:x4}:{id:x4}, as sysfs says; command 0x{command:x4}, Bus Master {busMaster} (as found)");
    }

    private static (ushort Vendor, ushort Device, ushort Command) ReadConfig(VfioDevice device)
    {
        using var config = device.MapRegion(VfioUapi.VFIO_PCI_CONFIG_REGION_INDEX);
        return (config.Read16(0x00), config.Read16(0x02), config.Read16(0x04));
    }

    private static Dictionary<string, long> MemInfo()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in (Read("/proc/meminfo") ?? "").Split('\n'))
        {
            var parts = line.Split(':', 2);
            if (parts.Length == 2 && long.TryParse(parts[1].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                values[parts[0].Trim()] = value;
            }
        }

        return values;
    }

    private static string? Read(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static string OneLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return (end < 0 ? text : text[..end]).TrimEnd();
    }
}
