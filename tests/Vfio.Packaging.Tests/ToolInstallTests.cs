using Vfio.TestSupport;
using Xunit;

namespace Vfio.Packaging.Tests;

// Inside the namespace: Vfio.Rig (a namespace) would hide the rig class otherwise.
using GuestCollection = Vfio.Rig.Tests.GuestCollection;

/// <summary>sdhci-probe as a user installs it: dotnet tool install from the local feed.</summary>
[Collection(nameof(GuestCollection))]
public sealed class ToolInstallTests(ITestOutputHelper output)
{
    [Fact]
    public void The_tool_installs_from_the_local_feed_and_prints_the_repository_version()
    {
        var (shim, help) = Install(LocalFeed.Tool, "sdhci-probe", "tool");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "list", "bind", "unbind", "dump", "irq", "init", "read" })
        {
            Assert.Contains($"  {command} ", help.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Vfio_check_installs_from_the_local_feed_and_says_how_to_bind_a_device_that_is_not_on_VFIO()
    {
        var (shim, help) = Install(LocalFeed.CheckTool, "vfio-check", "check-tool");
        Assert.Equal(0, help.ExitCode);
        foreach (var option in new[] { "--iommu", "--json", "--reset" })
        {
            Assert.Contains($"  {option}", help.Stdout, StringComparison.Ordinal);
        }

        // Exit codes a script relies on: 2 for a wrong option, 4 for a device that is not there.
        Assert.Equal(2, Repository.Run(shim, ["0000:00:01.0", "--iommu", "bogus"], workingDirectory: LocalFeed.Work).ExitCode);
        var missing = Repository.Run(shim, ["no-such-device"], workingDirectory: LocalFeed.Work);
        Assert.Equal(4, missing.ExitCode);
        Assert.StartsWith("vfio-check: no-such-device: no such device", missing.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Installs the tool package <paramref name="package"/> from the local feed into its own folder, checks that
    /// <paramref name="command"/> prints the repository's version, and returns the command and its --help run.</summary>
    private (string Shim, (int ExitCode, string Stdout, string Stderr) Help) Install(string package, string command, string folder)
    {
        var packages = LocalFeed.Packages;
        var toolPath = Path.Combine(LocalFeed.Work, folder);
        var install = LocalFeed.Dotnet(["tool", "install", "--tool-path", toolPath, "--add-source", packages.Feed, package, "--version", packages.Version]);
        output.WriteLine(install.Stdout + install.Stderr);
        Assert.True(install.ExitCode == 0, $"dotnet tool install failed:\n{install.Stdout}\n{install.Stderr}");

        var shim = Path.Combine(toolPath, command);
        Assert.True(File.Exists(shim), $"no command {shim}");
        var version = Repository.Run(shim, ["--version"], workingDirectory: LocalFeed.Work);
        Assert.Equal(0, version.ExitCode);
        Assert.Equal(Checkout.InformationalVersion(packages.Version), version.Stdout.Trim());
        return (shim, Repository.Run(shim, ["--help"], workingDirectory: LocalFeed.Work));
    }
}
