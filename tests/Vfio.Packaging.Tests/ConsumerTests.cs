using System.Security.Cryptography;
using System.Text.Json;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Packaging.Tests;

// Inside the namespace: Vfio.Rig (a namespace) would hide the rig class otherwise.
using GuestCollection = Vfio.Rig.Tests.GuestCollection;
using Rig = Vfio.Rig.Tests.Rig;

/// <summary>The library as a user gets it: a fresh project outside the repository references
/// Vfio.Platform from the local feed (and the machine's usual feed for everything else), is published
/// self-contained and trimmed for a guest, and reads the SD controller's registers there. The expected
/// values are the ones the rig's C smoke test and busybox devmem read (tools/vm/README.md).</summary>
[Collection(nameof(GuestCollection))]
public sealed class ConsumerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("arm64", "NoIommu", "0x280737ec6481", "0x2402")]
    [InlineData("x86_64", "Type1v2", "0x57834b4", "0x2401")]
    public void A_fresh_project_restores_Vfio_Platform_from_the_feed_and_reads_the_controller_in_the_guest(string arch, string iommu, string caps, string version)
    {
        Rig.RequireRig(arch);
        var packages = LocalFeed.Packages;
        var rid = arch == "arm64" ? "linux-arm64" : "linux-x64";
        var project = Path.Combine(LocalFeed.Work, $"consumer-{arch}");
        Directory.CreateDirectory(project);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Consumer", "Program.cs"), Path.Combine(project, "Program.cs"), overwrite: true);
        File.WriteAllText(Path.Combine(project, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Vfio.Platform" Version="{packages.Version}" />
              </ItemGroup>
            </Project>
            """);
        // The local feed is added to the machine's own sources (no <clear/>). Packages restore into a
        // folder of this run, so a copy of Vfio.* in the machine's cache can never stand in for the one
        // just packed; the machine's cache still serves the runtime packs as a fallback folder.
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(LocalFeed.Work, "packages")}" />
              </config>
              <packageSources>
                <add key="vfio-local" value="{packages.Feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{MachinePackagesFolder()}" />
              </fallbackPackageFolders>
            </configuration>
            """);

        var publishDir = Path.Combine(project, "publish");
        var publish = LocalFeed.Dotnet(
            ["publish", "-c", "Release", "-r", rid, "--self-contained", "-p:PublishTrimmed=true", $"-p:RuntimeFrameworkVersion={RuntimeFrameworkVersion(rid)}",
             "-p:DebugType=none", "-p:ImportDirectoryBuildProps=false", "-p:ImportDirectoryBuildTargets=false", "-p:ImportDirectoryPackagesProps=false",
             "-o", publishDir, "--nologo"],
            project);
        output.WriteLine(publish.Stdout + publish.Stderr);
        Assert.True(publish.ExitCode == 0, $"publishing the consumer failed:\n{publish.Stdout}\n{publish.Stderr}");
        Assert.DoesNotContain("warning", publish.Stdout, StringComparison.OrdinalIgnoreCase);

        // The restore took the very packages this run packed (NuGet records each package's hash).
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "obj", "project.assets.json")));
        foreach (var id in LocalFeed.Libraries)
        {
            var library = assets.RootElement.GetProperty("libraries").GetProperty($"{id}/{packages.Version}");
            var packed = Convert.ToBase64String(SHA512.HashData(File.ReadAllBytes(packages.Nupkg(id))));
            Assert.Equal(packed, library.GetProperty("sha512").GetString());
        }

        Assert.True(File.Exists(Path.Combine(publishDir, "Vfio.Platform.dll")));
        Assert.True(File.Exists(Path.Combine(publishDir, "Vfio.Native.dll")));
        var (exit, text) = Rig.Run(arch, "g=$(rig-bind-vfio $RIG_VFIO_DEVICE) && /payload/consumer $g $RIG_VFIO_DEVICE", publishDir);
        output.WriteLine(text);
        Assert.Equal(0, exit);
        var values = Rig.Values(text);
        Assert.Equal(iommu, values["iommu"]);
        Assert.Equal(caps, values["caps"]);
        Assert.Equal(version, values["version"]);
    }

    private static string MachinePackagesFolder()
    {
        var locals = LocalFeed.Dotnet(["nuget", "locals", "global-packages", "--list"]);
        Assert.Equal(0, locals.ExitCode);
        return locals.Stdout.Trim()["global-packages:".Length..].Trim();
    }

    /// <summary>The runtime version self-contained publishes of the repository pin (the runtime packs the feed serves).</summary>
    private static string RuntimeFrameworkVersion(string rid)
    {
        var result = LocalFeed.Dotnet(["msbuild", Path.Combine(Repository.Root, "src", "Sdhci.Probe"), $"-p:RuntimeIdentifier={rid}", "-getProperty:RuntimeFrameworkVersion"], Repository.Root);
        Assert.Equal(0, result.ExitCode);
        Assert.False(string.IsNullOrWhiteSpace(result.Stdout), "src/Sdhci.Probe pins no RuntimeFrameworkVersion");
        return result.Stdout.Trim();
    }
}
