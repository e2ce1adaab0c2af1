using Vfio.TestSupport;
using Xunit;

namespace Vfio.Packaging.Tests;

// Inside the namespace: Vfio.Rig (a namespace) would hide the rig class otherwise.
using GuestCollection = Vfio.Rig.Tests.GuestCollection;
using Rig = Vfio.Rig.Tests.Rig;

/// <summary>sdhci-probe as one NativeAOT executable (tools/publish-aot): the linux-x64 one runs on this
/// machine, the cross-linked linux-arm64 one dumps the Arasan controller in the arm64 guest, with
/// nothing but that one file in the guest's payload.</summary>
[Collection(nameof(GuestCollection))]
public sealed class AotTests(ITestOutputHelper output)
{
    private const ushort ElfMachineX64 = 0x3E, ElfMachineAarch64 = 0xB7;

    [Fact]
    public void The_linux_x64_executable_runs_here_without_a_dotnet_runtime_beside_it()
    {
        Prerequisite.Require(Rig.CanLinkAot("linux-x64"), "gcc (NativeAOT links with it)");
        var binary = Rig.Aot("linux-x64");
        AssertSingleNativeExecutable(binary, ElfMachineX64);

        // No DOTNET_ROOT, no shared runtime: the executable carries its own.
        var version = Repository.Run("/usr/bin/env", ["-i", binary, "--version"], workingDirectory: Path.GetTempPath());
        Assert.Equal(0, version.ExitCode);
        Assert.Equal(Checkout.InformationalVersion(ProjectVersion()), version.Stdout.Trim());
    }

    [Theory]
    [InlineData("ff170000.mmc", "Version:  0x00002402", "Caps:      0x37ec6481 | Caps_1:   0x00002807")]
    public void The_linux_arm64_executable_dumps_the_controller_in_the_arm64_guest(string device, string version, string caps)
    {
        Prerequisite.Require(Rig.CanLinkAot("linux-arm64"), "gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (cross-linking NativeAOT for arm64)");
        Rig.RequireRig("arm64");
        var binary = Rig.Aot("linux-arm64");
        AssertSingleNativeExecutable(binary, ElfMachineAarch64);
        output.WriteLine($"{binary}: {new FileInfo(binary).Length:N0} bytes");

        var steps = Rig.RunSteps("arm64", binary,
            ("payload", "ls /payload"),
            ("version", "/payload/sdhci-probe --version"),
            ("dump", $"/payload/sdhci-probe dump {device} --bind --noiommu"));
        foreach (var (name, (exit, text)) in steps)
        {
            output.WriteLine($"--- {name} (exit {exit})\n{text}");
        }

        Assert.Equal("sdhci-probe", steps["payload"].Output.Trim());
        Assert.Equal(0, steps["version"].ExitCode);
        Assert.Equal(Checkout.InformationalVersion(ProjectVersion()), steps["version"].Output.Trim());
        Assert.Equal(0, steps["dump"].ExitCode);
        Assert.Contains("============ SDHCI REGISTER DUMP ===========", steps["dump"].Output, StringComparison.Ordinal);
        Assert.Contains(version, steps["dump"].Output, StringComparison.Ordinal);
        Assert.Contains(caps, steps["dump"].Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("linux-x64", ElfMachineX64)]
    [InlineData("linux-arm64", ElfMachineAarch64)]
    public void Vfio_check_builds_as_one_NativeAOT_executable(string rid, ushort machine)
    {
        Prerequisite.Require(Rig.CanLinkAot(rid), rid == "linux-x64" ? "gcc (NativeAOT links with it)" : "gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (cross-linking NativeAOT for arm64)");
        var publish = Repository.Run(Path.Combine(Repository.Root, "tools", "publish-aot"), ["--tool", "vfio-check", rid]);
        Assert.True(publish.ExitCode == 0, $"tools/publish-aot --tool vfio-check {rid} failed:\n{publish.Stdout}\n{publish.Stderr}");
        var binary = publish.Stdout.Trim().Split('\n')[^1];
        Assert.Equal(Path.Combine(Repository.Root, "artifacts", "aot", "vfio-check", rid, "vfio-check"), binary);
        AssertSingleNativeExecutable(binary, machine);
        output.WriteLine($"{binary}: {new FileInfo(binary).Length:N0} bytes");
        if (rid == "linux-x64" && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            var version = Repository.Run("/usr/bin/env", ["-i", binary, "--version"], workingDirectory: Path.GetTempPath());
            Assert.Equal(0, version.ExitCode);
            Assert.Equal(Checkout.InformationalVersion(ProjectVersion()), version.Stdout.Trim());
            // Not there: exit 4 with one line, no stack trace.
            var missing = Repository.Run("/usr/bin/env", ["-i", binary, "no-such-device"], workingDirectory: Path.GetTempPath());
            Assert.Equal(4, missing.ExitCode);
            Assert.Single(missing.Stderr.Trim().Split('\n'));
        }
    }

    private static void AssertSingleNativeExecutable(string path, ushort machine)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan(0, 4).SequenceEqual((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F']), $"{path} is not an ELF file");
        Assert.Equal(2, bytes[4]); // ELFCLASS64
        Assert.Equal(machine, BitConverter.ToUInt16(bytes, 18));
        // One file: nothing managed beside it that it would need at run time.
        var beside = Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Where(f => f!.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".so", StringComparison.Ordinal));
        Assert.Empty(beside);
    }

    private static string ProjectVersion()
    {
        var version = LocalFeed.Dotnet(["msbuild", Path.Combine(Repository.Root, "src", "Sdhci.Probe"), "-getProperty:Version"], Repository.Root);
        Assert.Equal(0, version.ExitCode);
        return version.Stdout.Trim();
    }
}
