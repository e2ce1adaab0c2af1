using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The selftests' MSI-X, BAR and reset cases and an admin-queue driver on QEMU's nvme at 00:06.0,
/// the iommufd setup test on its device cdev, and several devices (edu, nvme, sdhci-pci) in one container
/// or IOAS, run by the guest checks (<c>--conformance</c>) in every IOMMU mode each PCI guest offers.
/// docs/conformance.md has the tables.</summary>
[Collection(nameof(GuestCollection))]
public sealed class NvmeConformanceTests(ITestOutputHelper output)
{
    private const string Sdhci = "0000:00:01.0", Edu = "0000:00:05.0", Nvme = "0000:00:06.0";

    private static readonly string[] DevicePassing =
        ["device.msix_software_trigger", "device.bar0_msix_table", "device.bar_64bit", "device.reset", "driver.nvme_identify", "driver.nvme_read"];

    // driver.nvme_read's blocks (ConformanceRun.ReadLba, ReadBlocks): the kernel's nvme driver reads the same
    // ones, with O_DIRECT, before the device goes to vfio-pci and after it comes back.
    private const long ReadLba = 20000;
    private const int ReadBlocks = 64;

    private const string WaitForDisk = "i=0; while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done";

    private static readonly string KernelRead = $"dd if=/dev/nvme0n1 bs=512 skip={ReadLba} count={ReadBlocks} iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1";

    /// <summary>The nvme from vfio-pci back to the kernel's nvme driver (what rig-bind-vfio did, undone).</summary>
    private const string GiveBack = $"echo {Nvme} > /sys/bus/pci/drivers/vfio-pci/unbind && echo > /sys/bus/pci/devices/{Nvme}/driver_override && echo {Nvme} > /sys/bus/pci/drivers_probe";

    private static readonly string[] Setup =
    [
        "iommufd_setup.bind_get_info", "iommufd_setup.get_info_without_bind", "iommufd_setup.bind_bad_iommufd",
        "iommufd_setup.repeated_bind", "iommufd_setup.attach_detach", "iommufd_setup.attach_invalid_ioas",
    ];

    [Fact]
    public void Nvme_on_q35_with_the_Intel_IOMMU()
    {
        var v = RunNvme("x86_64");
        Assert.Equal("1b36:0010", v["conformance.pci"]);
        foreach (var mode in new[] { "type1", "type1v2" })
        {
            AssertNvmeMode(v, mode);
            foreach (var name in Setup)
            {
                Assert.Equal("not applicable", v[$"case.{name}.{mode}"]);
            }
        }

        Assert.StartsWith("not applicable: ", v["mode.iommufd"], StringComparison.Ordinal);
        Assert.Equal("pass 12, refused 0, skipped 0, not applicable 60, not ported 0, failed 0", v["conformance.counts"]);
    }

    [Fact]
    public void Nvme_on_virt_with_the_SMMUv3_and_the_iommufd_setup_test()
    {
        var v = RunNvme("arm64-virt");
        Assert.Equal("1b36:0010", v["conformance.pci"]);
        foreach (var mode in new[] { "type1", "type1v2", "iommufd" })
        {
            AssertNvmeMode(v, mode);
        }

        // vfio_iommufd_setup_test: what the library can ask, it passes; the rest it cannot express, and the
        // kernel's answers to the raw ioctls are recorded.
        Assert.Equal("pass", v["case.iommufd_setup.bind_get_info.iommufd"]);
        Assert.Equal("refused EINVAL", v["case.iommufd_setup.repeated_bind.iommufd"]);
        Assert.Equal("VFIO_DEVICE_BIND_IOMMUFD EINVAL", v["detail.iommufd_setup.repeated_bind.iommufd.refusal"]);
        Assert.Equal("bind ok, bind again EINVAL", v["detail.iommufd_setup.repeated_bind.iommufd.kernel.same_fd"]);
        // The library never holds an unbound device or binds to a caller's descriptor: these two ask the kernel raw.
        Assert.Equal("refused EINVAL", v["case.iommufd_setup.get_info_without_bind.iommufd"]);
        Assert.Equal("refused EINVAL", v["case.iommufd_setup.bind_bad_iommufd.iommufd"]);
        Assert.Equal("EINVAL", v["detail.iommufd_setup.get_info_without_bind.iommufd.kernel"]);
        Assert.Equal("EINVAL", v["detail.iommufd_setup.bind_bad_iommufd.iommufd.kernel.minus2"]); // a negative descriptor
        Assert.Equal("EBADFD", v["detail.iommufd_setup.bind_bad_iommufd.iommufd.kernel.devnull"]); // a descriptor that is no iommufd
        // attach/detach through the library: the device moves between two address spaces (IoAddressSpace.Attach)
        // and IDENTIFY, its queues mapped only in the space the device is in, completes in each.
        Assert.Equal("pass", v["case.iommufd_setup.attach_detach.iommufd"]);
        Assert.Matches(@"^IOAS \d+ ok, IOAS \d+ ok, IOAS \d+ again ok$", v["detail.iommufd_setup.attach_detach.iommufd.identify"]);
        Assert.Matches(@"^bind ok, attach IOAS \d+ ok, detach ok, attach again ok$", v["detail.iommufd_setup.attach_detach.iommufd.kernel"]);
        // Another iommufd's address space: refused by the library before the kernel; the kernel's answer to an unknown id.
        Assert.Equal("refused EINVAL", v["case.iommufd_setup.attach_invalid_ioas.iommufd"]);
        Assert.StartsWith("ArgumentException: 0000:00:06.0 is not attached to an address space of /dev/iommu", v["detail.iommufd_setup.attach_invalid_ioas.iommufd.library"], StringComparison.Ordinal);
        Assert.Equal("bind ok, attach IOAS 0xdeadbeef ENOENT", v["detail.iommufd_setup.attach_invalid_ioas.iommufd.kernel"]);
        Assert.Equal("pass 20, refused 4, skipped 0, not applicable 48, not ported 0, failed 0", v["conformance.counts"]);
    }

    [Fact]
    public void Several_devices_in_one_container_on_q35()
    {
        var v = Run("x86_64", $"{Edu},{Nvme},{Sdhci}");
        AssertSeveral(v, "type1", "type1v2");
        Assert.Equal("pass 6, refused 0, skipped 0, not applicable 12, not ported 0, failed 0", v["conformance.counts"]);
    }

    [Fact]
    public void Several_devices_in_one_container_or_IOAS_on_virt()
    {
        var v = Run("arm64-virt", $"{Edu},{Nvme},{Sdhci}");
        AssertSeveral(v, "type1", "type1v2", "iommufd");
        Assert.Equal("pass 9, refused 0, skipped 0, not applicable 9, not ported 0, failed 0", v["conformance.counts"]);
    }

    private static void AssertSeveral(Dictionary<string, string> v, params string[] modes)
    {
        foreach (var mode in modes)
        {
            Assert.Equal("runs", v[$"mode.{mode}"]);
            foreach (var name in new[] { "several.open_all", "several.dma_each", "several.release_one" })
            {
                Assert.Equal($"{name}.{mode}=pass", $"{name}.{mode}={v[$"case.{name}.{mode}"]}");
            }

            Assert.Equal("3", v[$"detail.several.open_all.{mode}.devices"]);
            Assert.Equal($"{Sdhci} 1b36:0007", v[$"detail.several.dma_each.{mode}.others"]);
            Assert.Equal($"{Edu},{Sdhci}", v[$"detail.several.release_one.{mode}.left"]);
        }

        // Each device in its own group.
        Assert.Equal(3, new[] { Edu, Nvme, Sdhci }.Select(d => v[$"conformance.group.{d}"]).Distinct().Count());
    }

    private static void AssertNvmeMode(Dictionary<string, string> v, string mode)
    {
        Assert.Equal("runs", v[$"mode.{mode}"]);
        foreach (var name in DevicePassing)
        {
            Assert.Equal($"{name}.{mode}=pass", $"{name}.{mode}={v[$"case.{name}.{mode}"]}");
        }

        Assert.Equal("vfio-net", v[$"detail.driver.nvme_identify.{mode}.serial"]);
        // The namespace read: the image's blocks by its recipe, the kernel's driver before and after.
        Assert.Equal("32768 blocks of 512 B", v[$"detail.driver.nvme_read.{mode}.namespace"]); // the 16 MiB image
        Assert.Equal($"{ReadBlocks} from LBA {ReadLba}", v[$"detail.driver.nvme_read.{mode}.blocks"]);
        Assert.Equal($"VFIO-NET LBA {ReadLba:D8}", v[$"detail.driver.nvme_read.{mode}.first"].TrimEnd());
        var expected = Rig.CardRecipeHash(ReadLba, ReadBlocks);
        Assert.Equal($"/tmp/nvme-read.{mode}.bin", v[$"detail.driver.nvme_read.{mode}.file"]);
        Assert.Equal(expected, v[$"read.{mode}"]);
        Assert.Equal(expected, v["kernel.before"]);
        Assert.Equal(expected, v["kernel.after"]);
        Assert.Equal("1b36", v[$"detail.driver.nvme_identify.{mode}.vid"]);
        Assert.Equal("0x0", v[$"detail.device.bar_64bit.{mode}.region1.size"]);
        Assert.Equal("advertised (PCIe DevCap FLR)", v[$"detail.device.reset.{mode}.flr"]);
        Assert.Equal("flr", v[$"detail.device.reset.{mode}.reset_method"]); // the kernel resets the nvme by FLR
        Assert.Equal("0x460001->0x0", v[$"detail.device.reset.{mode}.cc"]);
        Assert.Equal("0x1->0x0", v[$"detail.device.reset.{mode}.csts"]);
        // QEMU 7.2's nvme keeps its admin queue registers across an FLR (it runs its controller reset,
        // which the NVMe spec says leaves AQA/ASQ/ACQ alone, for the function reset too).
        Assert.Equal("0xf000f->0xf000f", v[$"detail.device.reset.{mode}.aqa"]);
        Assert.Equal("65", v[$"detail.device.msix_software_trigger.{mode}.vectors"]);
        Assert.Equal("msix_mappable", v[$"detail.device.bar0_msix_table.{mode}.kernel"]); // the whole BAR0, table included
        Assert.Equal("0x0+0x4000", v[$"detail.device.bar0_msix_table.{mode}.library"]);
        Assert.Equal("65 entries, BAR0+0x2000; PBA BAR0+0x3000", v[$"detail.device.bar0_msix_table.{mode}.table"]);
        Assert.Equal("flags 0x4", v[$"detail.device.bar_64bit.{mode}.bar0"]); // memory, 64-bit, not prefetchable
        var vectors = int.Parse(v[$"detail.device.msix_software_trigger.{mode}.vectors"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(vectors > 1, $"{vectors} MSI-X vectors");
        Assert.Equal((vectors * (vectors + 1) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture), v[$"detail.device.msix_software_trigger.{mode}.triggered"]);
    }

    /// <summary>The nvme's cases, between two reads of the same blocks by the kernel's nvme driver (it has the
    /// device at boot; rig-bind-vfio takes it away, and it gets it back at the end).</summary>
    private Dictionary<string, string> RunNvme(string arch)
    {
        Rig.RequireRig(arch);
        var payload = Rig.GuestChecks(arch);
        var command = $"{WaitForDisk}; echo kernel.before.driver=$(basename $(readlink /sys/bus/pci/devices/{Nvme}/driver)); echo kernel.before=$({KernelRead}); "
            + $"rig-bind-vfio {Nvme} >/dev/null && /payload/vfio-guest-checks --conformance {Nvme}; rc=$?; "
            + "for f in /tmp/nvme-read.*.bin; do m=${f#/tmp/nvme-read.}; echo read.${m%.bin}=$(sha256sum < $f | cut -d' ' -f1); done; "
            + $"{GiveBack}; {WaitForDisk}; echo kernel.after.driver=$(basename $(readlink /sys/bus/pci/devices/{Nvme}/driver)); echo kernel.after=$({KernelRead}); exit $rc";
        var (exit, text) = Rig.Run(arch, command, payload);
        output.WriteLine(text);
        var v = Rig.Values(text);
        Assert.Equal(0, exit);
        Assert.Equal("True", v["conformance.done"]);
        Assert.Equal("nvme", v["kernel.before.driver"]);
        Assert.Equal("nvme", v["kernel.after.driver"]);
        return v;
    }

    private Dictionary<string, string> Run(string arch, string devices)
    {
        Rig.RequireRig(arch);
        var payload = Rig.GuestChecks(arch);
        var bind = string.Join(" && ", devices.Split(',').Select(d => $"rig-bind-vfio {d} >/dev/null"));
        var (exit, text) = Rig.Run(arch, $"{bind} && /payload/vfio-guest-checks --conformance {devices}", payload);
        output.WriteLine(text);
        var v = Rig.Values(text);
        Assert.Equal(0, exit);
        Assert.Equal("True", v["conformance.done"]);
        return v;
    }
}
