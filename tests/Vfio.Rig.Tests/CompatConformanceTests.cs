using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The conformance suite in iommufd's compatibility modes: the arm64-virt guest booted with the
/// kernel variant that has iommufd's /dev/vfio/vfio instead of VFIO's container and type1
/// (<c>rig run arm64-virt --kernel iommufd-compat</c>, tools/vm/arm64/kernel-iommufd-compat.fragment). The
/// library opens it as it opens any container (VfioContainer with type1 or type1v2); edu's and nvme's cases
/// then run in iommufd-compat-type1, iommufd-compat-type1v2 and native iommufd. docs/conformance.md has the
/// table and what differs from type1.</summary>
[Collection(nameof(GuestCollection))]
public sealed class CompatConformanceTests(ITestOutputHelper output)
{
    private const string Edu = "0000:00:05.0", Nvme = "0000:00:06.0";
    private static readonly string[] Compat = ["iommufd-compat-type1", "iommufd-compat-type1v2"];

    private static readonly string[] EduPassing =
    [
        "dma_map_unmap.anonymous", "dma_map_unmap.hugetlb_2mb", "dma_map_limit.unmap_range", "dma_map_limit.unmap_all",
        "device.config_space", "device.bars", "device.msi_software_trigger",
        "driver.memcpy_success", "driver.memcpy_from_unmapped_iova", "driver.memcpy_to_unmapped_iova", "driver.send_msi", "driver.send_intx",
        "driver.mix_and_match", "driver.memcpy_storm", "driver.init_remove",
    ];

    private static readonly string[] NvmePassing =
    [
        "device.msix_software_trigger", "device.bar0_msix_table", "device.bar_64bit", "device.reset", "driver.nvme_identify", "driver.nvme_read",
    ];

    [Fact]
    public void Edu_and_nvme_in_iommufd_compat_type1_and_type1v2()
    {
        Rig.RequireRig("arm64-virt");
        var steps = Rig.RunSteps("arm64-virt", Rig.GuestChecks("arm64-virt"), ["--kernel", "iommufd-compat", "--timeout", "400"],
            ("kernel", "test -d /sys/module/vfio_iommu_type1 && echo type1-present; test -c /dev/vfio/vfio && echo vfio-node; test -d /sys/module/iommufd && echo iommufd"),
            ("edu", $"rig-bind-vfio {Edu} >/dev/null && /payload/vfio-guest-checks --conformance {Edu}"),
            ("nvme", $"rig-bind-vfio {Nvme} >/dev/null && /payload/vfio-guest-checks --conformance {Nvme}"));
        Rig.Log(output, steps);

        // The variant kernel: /dev/vfio/vfio is iommufd's; VFIO's type1 is not built.
        Assert.Equal("vfio-node\niommufd", steps["kernel"].Output.Trim());

        var edu = Rig.Values(steps["edu"].Output);
        Assert.Equal(0, steps["edu"].ExitCode);
        Assert.Equal("True", edu["conformance.done"]);
        Assert.StartsWith("not applicable: no type1 container in this kernel", edu["mode.type1"], StringComparison.Ordinal);
        foreach (var mode in (string[])[.. Compat, "iommufd"])
        {
            Assert.Equal("runs", edu[$"mode.{mode}"]);
            foreach (var name in EduPassing)
                Assert.Equal($"{name}.{mode}=pass", $"{name}.{mode}={edu[$"case.{name}.{mode}"]}");
            Assert.Equal("refused EOVERFLOW/EOVERFLOW", edu[$"case.dma_map_limit.overflow.{mode}"]); // as the selftest expects, unlike type1's EINVAL
        }

        foreach (var mode in Compat)
        {
            // A BAR cannot be mapped (iommufd pins pages; the selftest expects the refusal in compat too), and the
            // unmap that follows answers as type1 does: nothing mapped, no error (native iommufd: ENOENT).
            foreach (var kind in (string[])["map_full_bar", "map_partial_bar", "map_bar_misaligned"])
                Assert.Equal("refused EFAULT/no error", edu[$"case.dma_mapping_mmio.{kind}.{mode}"]);
            Assert.Equal("0,1,0", edu[$"detail.device.msi_software_trigger.{mode}.counts"]);
            Assert.Equal("fds 0, maps 0", edu[$"detail.driver.init_remove.{mode}.leaked"]);
        }

        Assert.Equal("refused EFAULT/ENOENT", edu["case.dma_mapping_mmio.map_full_bar.iommufd"]);
        Assert.Contains("failed 0", edu["conformance.counts"], StringComparison.Ordinal);

        var nvme = Rig.Values(steps["nvme"].Output);
        Assert.Equal(0, steps["nvme"].ExitCode);
        foreach (var mode in Compat)
        {
            foreach (var name in NvmePassing)
                Assert.Equal($"{name}.{mode}=pass", $"{name}.{mode}={nvme[$"case.{name}.{mode}"]}");
        }

        Assert.Contains("failed 0", nvme["conformance.counts"], StringComparison.Ordinal);
    }
}
