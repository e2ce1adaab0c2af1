using System.Text.Json;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>vfio-check in the three guests, on the SD controller and on QEMU's edu where the guest has it:
/// x86_64 (q35, Intel IOMMU, type1), arm64-virt (SMMUv3, type1 and iommufd) and arm64 (ZCU102, no-IOMMU).
/// The rows every working VFIO setup must pass are asserted, and that the device is left as found.
/// Each run's text table is also written to artifacts/vfio-check/outputs (the source of docs/vfio-check.md).</summary>
[Collection(nameof(GuestCollection))]
public sealed class VfioCheckTests(ITestOutputHelper output)
{
    private const string Sd = "0000:00:01.0", Edu = "0000:00:05.0", Nvme = "0000:00:06.0";
    private const string Check = "/payload/vfio-check";

    // Both PCI devices are handed to vfio-pci by the rig's own sysfs helper; edu only where the guest has it.
    private const string BindPci = $"rig-bind-vfio {Sd} && if [ -e /sys/bus/pci/devices/{Edu} ]; then rig-bind-vfio {Edu}; fi" +
        $" && if [ -e /sys/bus/pci/devices/{Nvme} ]; then rig-bind-vfio {Nvme}; fi";

    private static string IfEdu(string command) => $"if [ -e /sys/bus/pci/devices/{Edu} ]; then {command}; else echo no-edu; fi";

    private static string IfNvme(string command) => $"if [ -e /sys/bus/pci/devices/{Nvme} ]; then {command}; else echo no-nvme; fi";

    /// <summary>The PCI command register from sysfs (4 hex digits), what Bus Master Enable lives in.</summary>
    private static string Command(string device) => $"od -An -tx2 -j4 -N2 /sys/bus/pci/devices/{device}/config | tr -d ' '";

    [Fact]
    public void X86_64_type1_passes_on_the_SD_controller_and_edu_and_leaves_them_as_found()
    {
        const string Arch = "x86_64";
        Rig.RequireRig(Arch);
        var steps = Rig.RunSteps(Arch, Binary(Arch),
            ("unbound", $"{Check} {Sd}"),
            ("usage", $"{Check} {Sd} --iommu bogus"),
            ("bind", BindPci),
            ("command-before", Command(Sd)),
            ("sd", $"{Check} {Sd}"),
            ("hugepage", "echo 1 > /proc/sys/vm/nr_hugepages && grep HugePages_Free /proc/meminfo"),
            ("sd-json", $"{Check} {Sd} --json"),
            ("edu", IfEdu($"{Check} {Edu}")),
            ("edu-json", IfEdu($"{Check} {Edu} --json")),
            ("nvme", IfNvme($"{Check} {Nvme}")),
            ("nvme-json", IfNvme($"{Check} {Nvme} --json")),
            ("nvme-reset-json", IfNvme($"{Check} {Nvme} --reset --json")),
            ("command-after", Command(Sd)),
            ("interrupts-after", "grep -c vfio /proc/interrupts; true"),
            ("driver-after", $"basename $(readlink /sys/bus/pci/devices/{Sd}/driver)"));
        Rig.Log(output, steps);
        Save(Arch, "sd-type1", steps["sd"].Output);
        Save(Arch, "sd-unbound", steps["unbound"].Output);

        // Not bound: exit 4, and the way to bind it that works for any device (not sdhci-probe).
        Assert.Equal(4, steps["unbound"].ExitCode);
        Assert.Contains($"VfioDeviceBinding.Bind(\"{Sd}\")", steps["unbound"].Output, StringComparison.Ordinal);
        Assert.Contains($"echo vfio-pci > /sys/bus/pci/devices/{Sd}/driver_override", steps["unbound"].Output, StringComparison.Ordinal);
        Assert.DoesNotContain("sdhci-probe", steps["unbound"].Output, StringComparison.Ordinal);
        Assert.Equal(2, steps["usage"].ExitCode);
        Assert.Equal(0, steps["bind"].ExitCode);

        // Before a huge page is reserved, the 2 MiB case says why it cannot run, and that is no failure.
        Assert.Equal(0, steps["sd"].ExitCode);
        Assert.Matches(@"dma\.2m .* skip +no 2 MiB huge page reserved", steps["sd"].Output);

        var sd = Report(steps["sd-json"]);
        AssertIommuDevice(sd, "type1v2");
        Assert.Contains("0x100 bytes", Case(sd, "region.0", "pass"), StringComparison.Ordinal); // sdhci-pci BAR0
        Assert.Contains("1b36:0007", Case(sd, "config", "pass"), StringComparison.Ordinal);
        Assert.Contains("Bus Master off", Case(sd, "config", "pass"), StringComparison.Ordinal);
        Assert.Contains("0xfedfffff, 0xfef00000-", Case(sd, "iova", "pass"), StringComparison.Ordinal); // the MSI window left out

        AssertEdu(steps, "type1v2", Arch, "edu-type1");
        AssertNvme(steps, "type1v2", Arch, "nvme-type1");

        // Left as found: the command register unchanged (no Bus Master), no VFIO interrupt left, still on vfio-pci.
        Assert.Equal(steps["command-before"].Output.Trim(), steps["command-after"].Output.Trim());
        Assert.Equal("0", steps["interrupts-after"].Output.Trim());
        Assert.Equal("vfio-pci", steps["driver-after"].Output.Trim());
    }

    [Fact]
    public void Arm64_virt_passes_through_type1_and_iommufd_behind_the_SMMUv3()
    {
        const string Arch = "arm64-virt";
        Rig.RequireRig(Arch);
        var steps = Rig.RunSteps(Arch, Binary(Arch),
            ("bind", BindPci),
            ("hugepage", "echo 1 > /proc/sys/vm/nr_hugepages && grep HugePages_Free /proc/meminfo"),
            ("command-before", Command(Sd)),
            ("sd", $"{Check} {Sd} --iommu type1"),
            ("sd-json", $"{Check} {Sd} --iommu type1 --json"),
            ("sd-iommufd", $"{Check} {Sd} --iommu iommufd"),
            ("sd-iommufd-json", $"{Check} {Sd} --iommu iommufd --json"),
            ("sd-noiommu", $"{Check} {Sd} --iommu noiommu"),
            ("edu", IfEdu($"{Check} {Edu} --iommu type1")),
            ("edu-json", IfEdu($"{Check} {Edu} --iommu type1 --json")),
            ("edu-iommufd", IfEdu($"{Check} {Edu} --iommu iommufd")),
            ("edu-iommufd-json", IfEdu($"{Check} {Edu} --iommu iommufd --json")),
            ("nvme", IfNvme($"{Check} {Nvme} --iommu iommufd")),
            ("nvme-json", IfNvme($"{Check} {Nvme} --iommu iommufd --json")),
            ("nvme-reset-json", IfNvme($"{Check} {Nvme} --iommu iommufd --reset --json")),
            ("command-after", Command(Sd)),
            ("interrupts-after", "grep -c vfio /proc/interrupts; true"));
        Rig.Log(output, steps);
        Save(Arch, "sd-type1", steps["sd"].Output);
        Save(Arch, "sd-iommufd", steps["sd-iommufd"].Output);

        var type1 = Report(steps["sd-json"]);
        AssertIommuDevice(type1, "type1v2");
        // The SMMU's software MSI window (0x8000000, 1 MiB) is reserved in the container and in every IOAS.
        Assert.StartsWith("0x0-0x7ffffff, 0x8100000-", Case(type1, "iova", "pass"), StringComparison.Ordinal);
        Assert.Contains("iommufd yes (/dev/vfio/devices/vfio", Case(type1, "backends", "pass"), StringComparison.Ordinal);
        Assert.Contains("iommufd-compat no", Case(type1, "backends", "pass"), StringComparison.Ordinal); // our kernel has VFIO's own container

        var iommufd = Report(steps["sd-iommufd-json"]);
        AssertIommuDevice(iommufd, "iommufd");
        Assert.Contains("attached to IOAS", Case(iommufd, "open", "pass"), StringComparison.Ordinal);
        Assert.StartsWith("0x0-0x7ffffff, 0x8100000-", Case(iommufd, "iova", "pass"), StringComparison.Ordinal);

        // Asking for no-IOMMU on an IOMMU-backed group fails with the fix.
        Assert.Equal(1, steps["sd-noiommu"].ExitCode);
        Assert.Contains("--iommu type1 or --iommu iommufd", steps["sd-noiommu"].Output, StringComparison.Ordinal);

        AssertEdu(steps, "type1v2", Arch, "edu-type1");
        if (!steps["edu"].Output.Contains("no-edu", StringComparison.Ordinal))
        {
            Save(Arch, "edu-iommufd", steps["edu-iommufd"].Output);
            var edu = Report(steps["edu-iommufd-json"]);
            AssertIommuDevice(edu, "iommufd");
            Assert.Contains("EAGAIN before, eventfd counted 1", Case(edu, "trigger.1", "pass"), StringComparison.Ordinal); // MSI
        }

        AssertNvme(steps, "iommufd", Arch, "nvme-iommufd");

        Assert.Equal(steps["command-before"].Output.Trim(), steps["command-after"].Output.Trim());
        Assert.Equal("0", steps["interrupts-after"].Output.Trim());
    }

    [Fact]
    public void Arm64_no_IOMMU_passes_on_the_Arasan_and_a_GDMA_channel_and_refuses_DMA_mapping_with_the_reason()
    {
        const string Arch = "arm64", Device = "ff170000.mmc", Gdma = "fd500000.dma-controller";
        Rig.RequireRig(Arch);
        var steps = Rig.RunSteps(Arch, Binary(Arch),
            ("unbound", $"{Check} {Device}"),
            ("bind", $"rig-bind-vfio {Device}"),
            ("hugepage", "echo 1 > /proc/sys/vm/nr_hugepages && grep HugePages_Free /proc/meminfo"),
            ("sd", $"{Check} {Device}"),
            ("sd-json", $"{Check} {Device} --json"),
            ("type1", $"{Check} {Device} --iommu type1"),
            ("interrupts-after", "grep -c vfio /proc/interrupts; true"),
            ("driver-after", $"basename $(readlink /sys/bus/platform/devices/{Device}/driver)"),
            ("gdma-bind", $"rig-bind-vfio {Gdma}"),
            ("gdma", $"{Check} {Gdma}"),
            ("gdma-json", $"{Check} {Gdma} --json"));
        Rig.Log(output, steps);
        Save(Arch, "sd-noiommu", steps["sd"].Output);
        Save(Arch, "gdma-noiommu", steps["gdma"].Output);

        Assert.Equal(4, steps["unbound"].ExitCode);
        Assert.Contains($"VfioDeviceBinding.Bind(\"{Device}\")", steps["unbound"].Output, StringComparison.Ordinal);
        Assert.Contains($"echo vfio-platform > /sys/bus/platform/devices/{Device}/driver_override", steps["unbound"].Output, StringComparison.Ordinal);
        Assert.Equal(0, steps["bind"].ExitCode);

        Assert.Equal(0, steps["sd"].ExitCode);
        AssertNoIommuPlatformDevice(Report(steps["sd-json"]), "xlnx,zynqmp-8.9a");

        // type1 on a no-IOMMU group: the open fails with the kernel's group node and the fix.
        Assert.Equal(1, steps["type1"].ExitCode);
        Assert.Contains("--iommu noiommu", steps["type1"].Output, StringComparison.Ordinal);

        Assert.Equal("0", steps["interrupts-after"].Output.Trim());
        Assert.Equal("vfio-platform", steps["driver-after"].Output.Trim());

        // The second platform device: a GDMA channel (no kernel driver before), its own no-IOMMU group.
        Assert.Equal(0, steps["gdma-bind"].ExitCode);
        Assert.Equal(0, steps["gdma"].ExitCode);
        AssertNoIommuPlatformDevice(Report(steps["gdma-json"]), "xlnx,zynqmp-dma-1.0");
    }

    /// <summary>The rows a vfio-platform device in a no-IOMMU group must show (the Arasan, a GDMA channel).</summary>
    private static void AssertNoIommuPlatformDevice(JsonElement report, string compatible)
    {
        Assert.Equal("noiommu", report.GetProperty("iommu").GetString());
        Assert.Equal(0, report.GetProperty("failed").GetInt32());
        Assert.Contains(compatible, Case(report, "device", "pass"), StringComparison.Ordinal);
        Assert.Contains("is a no-IOMMU group", Case(report, "noiommu", "pass"), StringComparison.Ordinal);
        Assert.Contains("used: noiommu", Case(report, "backends", "pass"), StringComparison.Ordinal);
        Assert.Contains("0x1000 bytes, read write mmap; mmapped whole", Case(report, "region.0", "pass"), StringComparison.Ordinal);
        Assert.Contains("eventfd", Case(report, "irq.0", "pass"), StringComparison.Ordinal);
        // One level-triggered SPI: the software trigger is masked by the kernel and unmasked by the check.
        Assert.Contains("automasked", Case(report, "irq.0", "pass"), StringComparison.Ordinal);
        Assert.Contains("EAGAIN before, eventfd counted 1", Case(report, "trigger.0", "pass"), StringComparison.Ordinal);
        Assert.Contains("no-IOMMU", Case(report, "iova", "skip"), StringComparison.Ordinal);
        Assert.Contains("mapping refused as it must be (VFIO_IOMMU_MAP_DMA: EPERM", Case(report, "dma.4k", "skip"), StringComparison.Ordinal);
        Assert.Contains("mapping refused as it must be", Case(report, "dma.2m", "skip"), StringComparison.Ordinal);
        Assert.Contains("not a PCI device", Case(report, "config", "skip"), StringComparison.Ordinal);
    }

    /// <summary>The rows a device behind an IOMMU must pass: nothing failed, the back-end used, regions, IRQ
    /// info, INTx fired from software, IOVA ranges, DMA of 4 KiB and of a huge page (one is reserved).</summary>
    private static void AssertIommuDevice(JsonElement report, string iommu)
    {
        Assert.True(report.GetProperty("failed").GetInt32() == 0, $"failed cases: {report}");
        Assert.Equal(iommu, report.GetProperty("iommu").GetString());
        Assert.Contains($"used: {iommu}", Case(report, "backends", "pass"), StringComparison.Ordinal);
        Case(report, "group", "pass");
        Assert.Contains("IOMMU-backed", Case(report, "noiommu", "pass"), StringComparison.Ordinal);
        Case(report, "region.0", "pass");
        Assert.Contains("not mmappable", Case(report, "region.7", "pass"), StringComparison.Ordinal); // config space
        Assert.Contains("eventfd", Case(report, "irq.0", "pass"), StringComparison.Ordinal);
        Assert.Contains("EAGAIN before, eventfd counted 1", Case(report, "trigger.0", "pass"), StringComparison.Ordinal); // INTx
        Assert.Contains("not triggered", Case(report, "trigger.4", "skip"), StringComparison.Ordinal); // REQ
        Case(report, "iova", "pass");
        Assert.Contains("mapped 4 KiB", Case(report, "dma.4k", "pass"), StringComparison.Ordinal);
        Assert.Contains("mapped a 2 MiB huge page", Case(report, "dma.2m", "pass"), StringComparison.Ordinal);
        Case(report, "reset", "skip"); // not offered, or offered and not run without --reset
    }

    /// <summary>edu, where the guest has it: an IOMMU device with MSI, fired from software with one vector enabled.</summary>
    private void AssertEdu(Dictionary<string, (int ExitCode, string Output)> steps, string iommu, string arch, string name)
    {
        if (steps["edu"].Output.Contains("no-edu", StringComparison.Ordinal))
        {
            output.WriteLine($"TODO: no edu at {Edu} in the {arch} guest");
            return;
        }

        Save(arch, name, steps["edu"].Output);
        Assert.Equal(0, steps["edu"].ExitCode);
        var edu = Report(steps["edu-json"]);
        AssertIommuDevice(edu, iommu);
        Assert.Contains("1234:11e8", Case(edu, "config", "pass"), StringComparison.Ordinal); // QEMU's edu ids
        Assert.Contains("enabled 1 vector, EAGAIN before, eventfd counted 1", Case(edu, "trigger.1", "pass"), StringComparison.Ordinal); // MSI
    }

    /// <summary>QEMU's nvme, where the guest has it: MSI-X in BAR0 (the kernel reports the MSI-X mappable
    /// capability, so the whole BAR maps), MSI-X fired from software with one vector, and a reset the kernel
    /// offers, run only with --reset.</summary>
    private void AssertNvme(Dictionary<string, (int ExitCode, string Output)> steps, string iommu, string arch, string name)
    {
        if (steps["nvme"].Output.Contains("no-nvme", StringComparison.Ordinal))
        {
            output.WriteLine($"no nvme at {Nvme} in the {arch} guest");
            return;
        }

        Save(arch, name, steps["nvme"].Output);
        Assert.Equal(0, steps["nvme"].ExitCode);
        var nvme = Report(steps["nvme-json"]);
        Assert.True(nvme.GetProperty("failed").GetInt32() == 0, $"failed cases: {nvme}");
        Assert.Equal(iommu, nvme.GetProperty("iommu").GetString());
        Assert.Contains("MSI-X mappable capability", Case(nvme, "region.0", "pass"), StringComparison.Ordinal);
        Assert.Contains("enabled 1 vector, EAGAIN before, eventfd counted 1", Case(nvme, "trigger.2", "pass"), StringComparison.Ordinal);
        Assert.Contains("available, not run", Case(nvme, "reset", "skip"), StringComparison.Ordinal);
        Assert.Contains("1b36:0010", Case(nvme, "config", "pass"), StringComparison.Ordinal);
        var reset = Report(steps["nvme-reset-json"]);
        Assert.Equal("VFIO_DEVICE_RESET done", Case(reset, "reset", "pass"));
        Assert.Equal(0, reset.GetProperty("failed").GetInt32());
    }

    /// <summary>The detail of case <paramref name="id"/>, asserting its result is one of <paramref name="results"/>.</summary>
    private static string Case(JsonElement report, string id, params string[] results)
    {
        var found = report.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("id").GetString() == id).ToList();
        Assert.True(found.Count == 1, $"no case {id} in {report}");
        var result = found[0].GetProperty("result").GetString();
        var detail = found[0].GetProperty("detail").GetString()!;
        Assert.True(results.Contains(result), $"case {id}: {result} ({detail}), expected {string.Join(" or ", results)}");
        return detail;
    }

    private static JsonElement Report((int ExitCode, string Output) step)
    {
        var text = step.Output;
        var start = text.IndexOf('{', StringComparison.Ordinal);
        Assert.True(start >= 0, $"no JSON in:\n{text}");
        using var json = JsonDocument.Parse(text[start..(text.LastIndexOf('}') + 1)]);
        return json.RootElement.Clone();
    }

    private static void Save(string arch, string name, string text)
    {
        var dir = Path.Combine(Repository.Root, "artifacts", "vfio-check", "outputs");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, $"{arch}-{name}.txt"), text);
    }

    /// <summary>vfio-check for the guest: the NativeAOT executable (tools/publish-aot --tool vfio-check) when
    /// this machine can link one, else a self-contained trimmed build. A payload for <see cref="Rig.Run"/>.</summary>
    private static string Binary(string arch)
    {
        var rid = Rig.RidOf(arch);
        if (Rig.CanLinkAot(rid))
        {
            var publish = Repository.Run(Path.Combine(Repository.Root, "tools", "publish-aot"), ["--tool", "vfio-check", rid]);
            Assert.True(publish.ExitCode == 0, $"tools/publish-aot --tool vfio-check {rid} failed:\n{publish.Stdout}\n{publish.Stderr}");
            var path = publish.Stdout.Trim().Split('\n')[^1];
            Assert.True(File.Exists(path), $"tools/publish-aot printed {path}, which does not exist");
            return path;
        }

        var output = Path.Combine(Repository.Root, "artifacts", "vfio-check", rid);
        var jit = Repository.Run("dotnet", ["publish", "src/Vfio.Check", "-r", rid, "-c", "Release", "--self-contained", "-p:PublishTrimmed=true", "-p:DebugType=none", "-o", output, "--nologo", "-v", "q"]);
        Assert.True(jit.ExitCode == 0, $"publishing vfio-check for {rid} failed:\n{jit.Stdout}\n{jit.Stderr}");
        return output;
    }
}
