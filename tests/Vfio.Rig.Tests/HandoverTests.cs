using System.Collections.Concurrent;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>Least privilege by handover: root binds the SDHCI and opens it, an ordinary user who cannot
/// open any VFIO node listens on a Unix socket, root sends the device there (the API guide's
/// handover-send / handover-receive examples), and the user reads the controller's version register and
/// maps a DMA buffer through the container or IOAS it received. x86_64: type1 container; arm64-virt: type1
/// and iommufd (6.12, SMMUv3) in one boot.</summary>
[Collection(nameof(GuestCollection))]
public sealed class HandoverTests(ITestOutputHelper output)
{
    private const string Device = "0000:00:01.0", Examples = "/payload/vfio-examples";
    private static readonly ConcurrentDictionary<string, Lazy<string>> Published = new();

    [Theory]
    [InlineData("x86_64")]
    [InlineData("arm64-virt")]
    public void Root_opens_the_SDHCI_and_hands_it_to_a_user_who_reads_it_and_maps_DMA(string arch)
    {
        Rig.RequireRig(arch);
        var iommufd = arch == "arm64-virt";
        static string AsUser(string command) => $"su probe -s /bin/sh -c '{command}'";

        var steps = new List<(string, string)>
        {
            ("user", "echo 'probe:x:1000:1000::/tmp:/bin/sh' >> /etc/passwd && echo 'probe:x:1000:' >> /etc/group && " + AsUser("id -u")),
            ("bind", $"{Examples} bind {Device} && ls -ln /dev/vfio/"),
            ("user-open", AsUser($"{Examples} open {Device}") + "; echo rc=$?"),
            ("type1", Pair("/tmp/type1.sock", "")),
        };
        if (iommufd)
        {
            steps.Add(("iommufd", Pair("/tmp/iommufd.sock", " --iommufd")));
        }

        var results = Rig.RunSteps(arch, Publish(Rig.RidOf(arch)), [.. steps]);
        Rig.Log(output, results);

        Assert.Equal("1000", results["user"].Output.Trim());
        Assert.Equal(0, results["bind"].ExitCode);
        Assert.Matches(@"crw-------\s+1 0\s+0\s+.*\d+\n", results["bind"].Output); // the group node stays root's
        // The user alone cannot open the device: the handover is what gives it.
        Assert.Contains("rc=1", results["user-open"].Output, StringComparison.Ordinal);
        Assert.Contains("EACCES", results["user-open"].Output, StringComparison.Ordinal);

        AssertPair(results["type1"].Output, "Group");
        if (iommufd)
        {
            AssertPair(results["iommufd"].Output, "Iommufd");
        }
    }

    // The user listens (its socket in /tmp is its own; root may connect to anything), root sends once the
    // socket exists, then the receiver's exit code and output.
    private static string Pair(string socket, string senderOptions) =>
        $"su probe -s /bin/sh -c 'echo uid=$(id -u); exec {Examples} handover-receive {socket}' > {socket}.log 2>&1 & receiver=$!; " +
        $"i=0; while [ ! -S {socket} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; " +
        $"{Examples} handover-send {Device} {socket}{senderOptions}; echo send-rc=$?; " +
        $"wait $receiver; echo receive-rc=$?; cat {socket}.log";

    private static void AssertPair(string text, string kind)
    {
        Assert.Contains($"sent {Device}", text, StringComparison.Ordinal);
        Assert.Contains("send-rc=0", text, StringComparison.Ordinal);
        Assert.Contains("receive-rc=0", text, StringComparison.Ordinal);
        Assert.Contains("uid=1000", text, StringComparison.Ordinal);
        Assert.Matches($@"received {Device} \({kind}\): version 0x2401, 4 KiB at IOVA 0x[0-9a-f]+", text);
    }

    private static string Publish(string rid) => Published.GetOrAdd(rid, r => new Lazy<string>(() =>
    {
        var dir = Path.Combine(Repository.Root, "artifacts", "examples", r);
        var result = Repository.Run("dotnet", ["publish", "examples/Vfio.Examples", "-r", r, "-c", "Release", "-o", dir, "--nologo", "-v", "q"]);
        Assert.True(result.ExitCode == 0, $"publishing the examples for {r} failed:\n{result.Stdout}\n{result.Stderr}");
        return dir;
    })).Value;
}
