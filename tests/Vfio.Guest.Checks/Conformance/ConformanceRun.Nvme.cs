using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Iommufd;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>The selftests' device cases that need MSI-X and FLR, on QEMU's nvme, and the iommufd setup
/// test (vfio_iommufd_setup_test) on the nvme's device cdev.</summary>
internal static partial class ConformanceRun
{
    public static readonly string[] NvmeCases =
    [
        "device.msix_software_trigger", "device.bar0_msix_table", "device.bar_64bit", "device.reset", "driver.nvme_identify", "driver.nvme_read",
        "iommufd_setup.bind_get_info", "iommufd_setup.get_info_without_bind", "iommufd_setup.bind_bad_iommufd",
        "iommufd_setup.repeated_bind", "iommufd_setup.attach_detach", "iommufd_setup.attach_invalid_ioas",
    ];

    /// <summary>What driver.nvme_read reads of namespace 1: 64 blocks (32 KiB of 512-byte blocks: eight
    /// pages, so PRP1 and a PRP list) from LBA 20000, in the 16 MiB nvme image of the rig.</summary>
    public const long ReadLba = 20000;
    public const int ReadBlocks = 64;

    private static void NvmeDeviceCases(IommuMode mode)
    {
        Case("device.msix_software_trigger", mode, s =>
        {
            var count = (int)s.Device.GetIrqInfo(VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX).Count;
            Detail("device.msix_software_trigger", mode, "vectors", count);
            var triggered = 0;
            for (var n = 1; n <= count; n++)
            {
                var vectors = s.Device.EnableInterrupts(VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX, n);
                try
                {
                    foreach (var vector in vectors)
                    {
                        var before = vector.Wait(TimeSpan.Zero);
                        vector.Trigger(); // VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER on this vector alone
                        var after = vector.Wait(TimeSpan.FromSeconds(1));
                        if (before != 0 || after != 1)
                        {
                            return $"FAIL: {n} vectors enabled: vector {vector.Subindex} read {before} before the trigger, {after} after";
                        }

                        triggered++;
                    }

                    // A trigger reaches its own vector only.
                    if (vectors.FirstOrDefault(v => v.Wait(TimeSpan.Zero) != 0) is { } stray)
                    {
                        return $"FAIL: {n} vectors enabled: vector {stray.Subindex} counted a trigger of another";
                    }
                }
                finally
                {
                    foreach (var vector in vectors)
                    {
                        vector.Dispose(); // the last one disables MSI-X
                    }
                }
            }

            Detail("device.msix_software_trigger", mode, "triggered", triggered);
            return count > 0 ? "pass" : "FAIL: the kernel reports no MSI-X vector";
        });

        Case("device.bar0_msix_table", mode, s =>
        {
            using var config = Nvme.Config(s.Device);
            if (Nvme.MsixCapability(config) is not { } msix)
            {
                return "FAIL: no MSI-X capability in config space";
            }

            Detail("device.bar0_msix_table", mode, "table", FormattableString.Invariant($"{msix.TableSize} entries, BAR{msix.TableBar}+0x{msix.TableOffset:x}; PBA BAR{msix.PbaBar}+0x{msix.PbaOffset:x}"));
            var info = s.Device.GetRegionInfo(msix.TableBar);
            var mappable = info.Capabilities.Any(c => c.Id == VfioUapi.VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
            var kernel = mappable ? "msix_mappable"
                : info.SparseAreas is { } areas ? "sparse " + string.Join(",", areas.Select(a => FormattableString.Invariant($"0x{a.Offset:x}+0x{a.Size:x}")))
                : info.CanMmap ? "mmap, no capability" : "no mmap";
            Detail("device.bar0_msix_table", mode, "kernel", kernel);
            Detail("device.bar0_msix_table", mode, "size", Hex(info.Size));
            using var bar = s.Device.MapRegion(msix.TableBar);
            var mapped = string.Join(",", bar.MappedAreas.Select(a => FormattableString.Invariant($"0x{a.Offset:x}+0x{a.Length:x}")));
            Detail("device.bar0_msix_table", mode, "library", mapped.Length == 0 ? "pread/pwrite" : mapped);
            var tableEnd = msix.TableOffset + (16L * msix.TableSize);
            if (mappable)
            {
                // The kernel lets the table be mapped: the library must map the whole BAR.
                if (!bar.IsMapped || bar.MappedAreas is not [(0, var length)] || length != (long)info.Size)
                {
                    return $"FAIL: the kernel reports the BAR mappable with its MSI-X table, the library mapped {mapped}";
                }
            }
            else if (bar.MappedAreas.Any(a => a.Offset < tableEnd && msix.TableOffset < a.Offset + a.Length))
            {
                return $"FAIL: the library mapped {mapped} over the MSI-X table 0x{msix.TableOffset:x}-0x{tableEnd:x}, which the kernel excluded";
            }

            // The registers answer through the mapping; the doorbells (0x1000, write-only) are rung through
            // it by driver.nvme_identify, whose completion proves they reached the device.
            var version = bar.Read32(0x08);
            Detail("device.bar0_msix_table", mode, "version", Hex(version));
            return version >= 0x10000 ? "pass" : $"FAIL: the version register reads 0x{version:x}";
        });

        Case("device.bar_64bit", mode, s =>
        {
            using var config = Nvme.Config(s.Device);
            var low = config.Read32(0x10);
            var upper = s.Device.GetRegionInfo(1);
            Detail("device.bar_64bit", mode, "bar0", FormattableString.Invariant($"flags 0x{low & 0xF:x}"));
            Detail("device.bar_64bit", mode, "region1.size", Hex(upper.Size));
            // Memory BAR (bit 0 clear), type 10b (64-bit): BAR1 is its upper half, which vfio-pci reports empty.
            return (low & 1) != 0 ? "FAIL: BAR0 is an I/O BAR"
                : (low & 6) != 4 ? $"FAIL: BAR0 type {(low >> 1) & 3} is not 64-bit"
                : upper.Size != 0 ? $"FAIL: region 1 (the upper half of BAR0) has size 0x{upper.Size:x}" : "pass";
        });

        Case("device.reset", mode, s =>
        {
            if (!s.Device.CanReset)
            {
                return "skipped: the kernel reports no reset for the nvme (VFIO_DEVICE_FLAGS_RESET clear)";
            }

            using (var config = Nvme.Config(s.Device))
            {
                Detail("device.reset", mode, "flr", HasFlr(config) ? "advertised (PCIe DevCap FLR)" : "not advertised");
            }

            var methods = $"/sys/bus/pci/devices/{s_device}/reset_method";
            Detail("device.reset", mode, "reset_method", File.Exists(methods) ? File.ReadAllText(methods).Trim() : "unknown");
            // The oracle: a controller enabled by IDENTIFY is disabled by the reset (CC and CSTS.RDY clear),
            // and a driver can bring it up again from scratch.
            s.Device.SetPciBusMaster(true);
            using var nvme = new Nvme(s.Device);
            using var queues = new Nvme.Queues(s.Dma);
            var vectors = s.Device.EnableInterrupts(VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX, 1);
            try
            {
                if (queues.Identify(nvme, vectors[0], out _) is { } before)
                {
                    return $"FAIL: before the reset: {before}";
                }

                var aqa = nvme.AdminQueueAttributes;
                var (cc, csts) = (nvme.Configuration, nvme.Status);
                s.Device.Reset();
                var (ccAfter, cstsAfter, aqaAfter) = (nvme.Configuration, nvme.Status, nvme.AdminQueueAttributes);
                Detail("device.reset", mode, "cc", $"{Hex(cc)}->{Hex(ccAfter)}");
                Detail("device.reset", mode, "csts", $"{Hex(csts)}->{Hex(cstsAfter)}");
                Detail("device.reset", mode, "aqa", $"{Hex(aqa)}->{Hex(aqaAfter)}");
                if ((cc & 1) == 0 || (csts & 1) == 0 || ccAfter != 0 || (cstsAfter & 1) != 0)
                {
                    return $"FAIL: CC {Hex(cc)} -> {Hex(ccAfter)}, CSTS {Hex(csts)} -> {Hex(cstsAfter)} across VFIO_DEVICE_RESET";
                }

                // vfio-pci restores the config space it saved before the reset, which may hold Bus Master
                // Enable clear; the MSI-X vector stays wired to its eventfd.
                s.Device.SetPciBusMaster(true);
                return queues.Identify(nvme, vectors[0], out _) is { } after ? $"FAIL: after the reset: {after}" : "pass";
            }
            finally
            {
                vectors[0].Dispose();
            }
        });

        Case("driver.nvme_identify", mode, s =>
        {
            // The controller's admin completions and its MSI-X are memory writes by the device.
            s.Device.SetPciBusMaster(true);
            using var nvme = new Nvme(s.Device);
            using var queues = new Nvme.Queues(s.Dma);
            var vectors = s.Device.EnableInterrupts(VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX, 1);
            try
            {
                var failure = queues.Identify(nvme, vectors[0], out var status);
                Detail("driver.nvme_identify", mode, "iova", Hex(queues.Mapping.Iova));
                if (failure is not null)
                {
                    return $"FAIL: {failure}";
                }

                var serial = Nvme.Serial(queues.Data);
                var vendor = BitConverter.ToUInt16(queues.Data[..2]);
                Detail("driver.nvme_identify", mode, "serial", serial);
                Detail("driver.nvme_identify", mode, "model", Nvme.Model(queues.Data));
                Detail("driver.nvme_identify", mode, "vid", FormattableString.Invariant($"{vendor:x4}"));
                return serial == "vfio-net" && vendor == Nvme.VendorId ? "pass" : $"FAIL: IDENTIFY returned serial '{serial}', vendor {vendor:x4}";
            }
            finally
            {
                vectors[0].Dispose();
            }
        });
    }

    /// <summary>driver.nvme_read: an I/O queue pair and a READ of namespace 1 through it; the blocks go to a
    /// file, whose SHA-256 the rig test compares with the kernel's nvme driver's and with the image's.</summary>
    private static void NvmeReadCase(IommuMode mode)
    {
        const string Name = "driver.nvme_read";
        Case(Name, mode, s =>
        {
            s.Device.SetPciBusMaster(true);
            using var nvme = new Nvme(s.Device);
            var vectors = s.Device.EnableInterrupts(VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX, 2);
            try
            {
                using var reader = new Nvme.Reader(nvme, s.Dma, vectors, ReadBlocks * 4096);
                Detail(Name, mode, "iova", Hex(reader.Mapping.Iova));
                if (reader.Start() is { } start)
                {
                    return $"FAIL: {start}";
                }

                Detail(Name, mode, "namespace", $"{reader.NamespaceBlocks} blocks of {reader.BlockSize} B");
                if (reader.Read((ulong)ReadLba, ReadBlocks) is { } read)
                {
                    return $"FAIL: {read}";
                }

                var bytes = reader.DataSpan(ReadBlocks * reader.BlockSize);
                Detail(Name, mode, "blocks", $"{ReadBlocks} from LBA {ReadLba}");
                // The guests have no libssl for .NET's SHA-256: the blocks go to a file for sha256sum.
                var file = $"/tmp/nvme-read.{mode.Name}.bin";
                File.WriteAllBytes(file, bytes.ToArray());
                Detail(Name, mode, "file", file);
                Detail(Name, mode, "first", System.Text.Encoding.ASCII.GetString(bytes[..31]));
                return reader.Stop() is { } stop ? $"FAIL: {stop}" : "pass";
            }
            finally
            {
                foreach (var vector in vectors)
                {
                    vector.Dispose();
                }
            }
        });
    }

    /// <summary>PCI Express Device Capabilities bit 28: Function Level Reset.</summary>
    private static bool HasFlr(Vfio.Platform.Mmio.MmioRegion config)
    {
        var pointer = config.Read8(0x34) & ~3;
        for (var hops = 0; pointer != 0 && hops < 48; hops++)
        {
            if (config.Read8(pointer) == 0x10)
            {
                return (config.Read32(pointer + 4) & (1u << 28)) != 0;
            }

            pointer = config.Read8(pointer + 1) & ~3;
        }

        return false;
    }

    // ------------------------------------------------------------------ iommufd setup (vfio_iommufd_setup_test)

    private static void IommufdSetupCases(IommuMode mode)
    {
        var setup = NvmeCases.Where(c => c.StartsWith("iommufd_setup.", StringComparison.Ordinal));
        if (mode.Name != "iommufd")
        {
            foreach (var name in setup)
            {
                Record(name, mode.Name, "not applicable");
            }

            return;
        }

        Step("iommufd_setup.bind_get_info", mode, () =>
        {
            // The library binds and attaches in one call; VFIO_DEVICE_GET_INFO then runs in VfioDevice.
            using var iommufd = IommufdContext.Open();
            using var space = iommufd.CreateAddressSpace();
            using var device = iommufd.OpenDevice(s_device, space);
            Detail("iommufd_setup.bind_get_info", mode, "info", $"flags 0x{device.Flags:x}, {device.RegionCount} regions, {device.IrqCount} irqs");
            return device.IsPci && device.RegionCount > 0 ? "pass" : "FAIL: VFIO_DEVICE_GET_INFO after the bind reports no PCI regions";
        });

        Step("iommufd_setup.repeated_bind", mode, () =>
        {
            // A second bind of a device that is bound already (here: through a second open of its cdev,
            // the only way the library can ask for it) must be refused while the first holds it.
            using var iommufd = IommufdContext.Open();
            using var space = iommufd.CreateAddressSpace();
            using var first = iommufd.OpenDevice(s_device, space);
            try
            {
                using var second = iommufd.OpenDevice(s_device, space);
                return "FAIL: a second bind of a bound device succeeded";
            }
            catch (VfioException e)
            {
                Detail("iommufd_setup.repeated_bind", mode, "refusal", $"{e.Operation} {e.ErrnoName}");
                return $"refused {e.ErrnoName}";
            }
        });

        // The selftest binds one descriptor twice, which the library cannot ask; the kernel's answer.
        Step("iommufd_setup.repeated_bind", mode, () =>
        {
            using var device = OpenRaw(IommufdContext.FindCdev(s_device, new IommufdOptions())!);
            using var iommufd = File.OpenHandle("/dev/iommu", FileMode.Open, FileAccess.ReadWrite);
            var fd = (int)iommufd.DangerousGetHandle();
            Detail("iommufd_setup.repeated_bind", mode, "kernel.same_fd", $"bind {Bind(device, fd)}, bind again {Bind(device, fd)}");
            return Results[("iommufd_setup.repeated_bind", mode.Name)];
        });

        // The library has no separate bind, attach or detach and cannot open an unbound cdev: these
        // cases are not ported to it. The kernel's own answers are recorded as details, asked with raw
        // ioctls through Vfio.Native (the selftests' calls), so the table still says what the kernel does.
        var cdev = IommufdContext.FindCdev(s_device, new IommufdOptions());
        Step("iommufd_setup.get_info_without_bind", mode, () =>
        {
            // The library never holds an unbound device (IommufdContext.OpenDevice binds as it opens), so the
            // case asks the kernel with the selftest's raw call on a cdev it opens itself, as the mmio cases do.
            using var device = OpenRaw(cdev!);
            var errno = GetInfoErrno(device);
            Detail("iommufd_setup.get_info_without_bind", mode, "kernel", errno);
            Detail("iommufd_setup.get_info_without_bind", mode, "how", "raw VFIO_DEVICE_GET_INFO on an unbound cdev: the library's API has no unbound device");
            return errno == "ok" ? "FAIL: VFIO_DEVICE_GET_INFO on an unbound cdev succeeded" : $"refused {errno}";
        });

        Step("iommufd_setup.bind_bad_iommufd", mode, () =>
        {
            using var device = OpenRaw(cdev!);
            using var notIommufd = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
            // The library binds only to the /dev/iommu it opened; the selftest's raw call with a bad descriptor.
            var minus2 = Bind(device, -2);
            var devNull = Bind(device, (int)notIommufd.DangerousGetHandle());
            Detail("iommufd_setup.bind_bad_iommufd", mode, "kernel.minus2", minus2);
            Detail("iommufd_setup.bind_bad_iommufd", mode, "kernel.devnull", devNull);
            Detail("iommufd_setup.bind_bad_iommufd", mode, "how", "raw VFIO_DEVICE_BIND_IOMMUFD: the library binds only to the iommufd it opened");
            return minus2 == "ok" || devNull == "ok" ? "FAIL: a bind to a descriptor that is no iommufd succeeded" : $"refused {minus2}";
        });

        Step("iommufd_setup.attach_detach", mode, () =>
        {
            // The library's form: a device moves between two address spaces of its iommufd (IoAddressSpace.Attach:
            // VFIO_DEVICE_ATTACH_IOMMUFD_PT on an attached device, which replaces its page table; the selftest's
            // detach-then-attach in one step). The oracle is DMA: IDENTIFY's queues are mapped only in the space
            // the device is in, so the controller completes only if its DMA is translated by that space. The
            // MSI-X vector is enabled after each move: behind an SMMU, Linux before 6.15 maps the MSI doorbell
            // into the page table the device has when its vectors are enabled, not into a later one.
            var steps = new List<string>();
            string? failure;
            using (var iommufd = IommufdContext.Open())
            {
                var first = iommufd.CreateAddressSpace();
                var second = iommufd.CreateAddressSpace();
                using var device = iommufd.OpenDevice(s_device, first);
                device.SetPciBusMaster(true);
                using var nvme = new Nvme(device);
                using var inFirst = new Nvme.Queues(first);
                using var inSecond = new Nvme.Queues(second, inFirst.Mapping.Iova + 0x10_0000);
                string? Try(IoAddressSpace space, Nvme.Queues queues, string where)
                {
                    if (!ReferenceEquals(device.DmaSpace, space))
                        return $"{where}: DmaSpace did not follow the move";
                    var vectors = device.EnableInterrupts(VfioUapi.VFIO_PCI_MSIX_IRQ_INDEX, 1);
                    try
                    {
                        var result = queues.Identify(nvme, vectors[0], out _);
                        steps.Add($"{where} {(result is null ? "ok" : "failed")}");
                        return result is null ? null : $"{where}: {result}";
                    }
                    finally
                    {
                        vectors[0].Dispose();
                    }
                }

                failure = Try(first, inFirst, $"IOAS {first.Id}");
                second.Attach(device);
                failure ??= Try(second, inSecond, $"IOAS {second.Id}");
                first.Attach(device);
                failure ??= Try(first, inFirst, $"IOAS {first.Id} again");
            }

            Detail("iommufd_setup.attach_detach", mode, "identify", string.Join(", ", steps));
            Detail("iommufd_setup.attach_detach", mode, "kernel", KernelAttachDetach());
            return failure is null ? "pass" : $"FAIL: {failure}";
        });

        Step("iommufd_setup.attach_invalid_ioas", mode, () =>
        {
            // An address space of another iommufd (or a destroyed one) is refused by the library before the
            // kernel is asked; the kernel's own answer to a page-table id it does not know is recorded too.
            using var iommufd = IommufdContext.Open();
            using var other = IommufdContext.Open();
            var foreign = other.CreateAddressSpace();
            using var device = iommufd.OpenDevice(s_device);
            string library;
            try
            {
                foreign.Attach(device);
                library = "accepted";
            }
            catch (ArgumentException e)
            {
                library = $"{e.GetType().Name}: {e.Message}";
            }

            device.Dispose();
            Detail("iommufd_setup.attach_invalid_ioas", mode, "library", library);
            Detail("iommufd_setup.attach_invalid_ioas", mode, "kernel", KernelAttachInvalid());
            return library.StartsWith(nameof(ArgumentException), StringComparison.Ordinal) && library.Contains("only a device from this iommufd", StringComparison.Ordinal)
                ? "refused EINVAL"
                : $"FAIL: {library}";
        });
    }

    /// <summary>The selftest's own calls on a cdev this case opens (raw ioctls through Vfio.Native): bind,
    /// attach an IOAS, detach, attach again; the kernel's answers.</summary>
    private static string KernelAttachDetach()
    {
        using var device = OpenRaw(IommufdContext.FindCdev(s_device, new IommufdOptions())!);
        using var iommufd = File.OpenHandle("/dev/iommu", FileMode.Open, FileAccess.ReadWrite);
        var fd = (int)iommufd.DangerousGetHandle();
        var bind = Bind(device, fd);
        var ioas = AllocIoas(fd);
        var attach = Pt(device, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, ioas);
        var detach = Pt(device, VfioUapi.VFIO_DEVICE_DETACH_IOMMUFD_PT, null);
        var again = Pt(device, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, ioas);
        return $"bind {bind}, attach IOAS {ioas} {attach}, detach {detach}, attach again {again}";
    }

    /// <summary>The kernel's answer to a page-table id it does not know (the selftest's invalid IOAS).</summary>
    private static string KernelAttachInvalid()
    {
        using var device = OpenRaw(IommufdContext.FindCdev(s_device, new IommufdOptions())!);
        using var iommufd = File.OpenHandle("/dev/iommu", FileMode.Open, FileAccess.ReadWrite);
        var bind = Bind(device, (int)iommufd.DangerousGetHandle());
        return $"bind {bind}, attach IOAS 0xdeadbeef {Pt(device, VfioUapi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0xdeadbeef)}";
    }

    private static void Step(string name, IommuMode mode, Func<string> body)
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

    private static SafeFileHandle OpenRaw(string path) => File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);

    private static string ErrnoOf(int rc) => rc < 0 ? ErrnoNames.Of(Marshal.GetLastPInvokeError()) : "ok";

    private static string GetInfoErrno(SafeFileHandle device)
    {
        var info = new vfio_device_info { argsz = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<vfio_device_info>() };
        return ErrnoOf(Libc.ioctl((int)device.DangerousGetHandle(), VfioUapi.VFIO_DEVICE_GET_INFO, MemoryMarshal.AsBytes(new Span<vfio_device_info>(ref info))));
    }

    private static string Bind(SafeFileHandle device, int iommufd)
    {
        var bind = new vfio_device_bind_iommufd { argsz = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<vfio_device_bind_iommufd>(), iommufd = iommufd };
        return ErrnoOf(Libc.ioctl((int)device.DangerousGetHandle(), VfioUapi.VFIO_DEVICE_BIND_IOMMUFD, MemoryMarshal.AsBytes(new Span<vfio_device_bind_iommufd>(ref bind))));
    }

    private static uint AllocIoas(int iommufd)
    {
        var alloc = new iommu_ioas_alloc { size = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<iommu_ioas_alloc>() };
        return Libc.ioctl(iommufd, IommufdUapi.IOMMU_IOAS_ALLOC, MemoryMarshal.AsBytes(new Span<iommu_ioas_alloc>(ref alloc))) < 0 ? 0 : alloc.out_ioas_id;
    }

    private static string Pt(SafeFileHandle device, uint request, uint? id)
    {
        if (id is { } ptId)
        {
            var attach = new vfio_device_attach_iommufd_pt { argsz = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<vfio_device_attach_iommufd_pt>(), pt_id = ptId };
            return ErrnoOf(Libc.ioctl((int)device.DangerousGetHandle(), request, MemoryMarshal.AsBytes(new Span<vfio_device_attach_iommufd_pt>(ref attach))));
        }

        var detach = new vfio_device_detach_iommufd_pt { argsz = (uint)System.Runtime.CompilerServices.Unsafe.SizeOf<vfio_device_detach_iommufd_pt>() };
        return ErrnoOf(Libc.ioctl((int)device.DangerousGetHandle(), request, MemoryMarshal.AsBytes(new Span<vfio_device_detach_iommufd_pt>(ref detach))));
    }
}
