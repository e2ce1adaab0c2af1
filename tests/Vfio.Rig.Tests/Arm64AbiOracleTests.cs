using Vfio.Native.Tests;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The gcc ABI oracle on arm64: the oracle program is cross-compiled from the same headers
/// (aarch64-linux-gnu-gcc, static) and run in the arm64 guest next to the C# side printed there by
/// the guest checks, so every size, offset and constant is compared on the architecture itself.</summary>
[Collection(nameof(GuestCollection))]
public sealed class Arm64AbiOracleTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_generated_item_matches_gcc_on_arm64()
    {
        Rig.RequireRig("arm64");
        Prerequisite.Require(Repository.OnPath("aarch64-linux-gnu-gcc"), "aarch64-linux-gnu-gcc (tools/setup-host installs gcc-aarch64-linux-gnu)");
        var include = Repository.UapiInclude;
        Prerequisite.Require(include is not null, "linux-source-6.12 (apt-get install linux-source-6.12)");
        var payload = Rig.GuestChecks("arm64");
        var items = NativeLayout.Items().ToList();
        GccOracle.Compile(items, include!, Path.Combine(payload, "abi-oracle"), "aarch64-linux-gnu-gcc", "-static", "-O1");

        var steps = Rig.RunSteps("arm64", payload, ("c", "/payload/abi-oracle"), ("cs", "/payload/vfio-guest-checks --abi"));
        var c = GccOracle.Parse(steps["c"].Output);
        var cs = GccOracle.Parse(steps["cs"].Output);

        var mismatches = items.Where(i => !c.TryGetValue(i.Key, out var cv) || !cs.TryGetValue(i.Key, out var sv) || cv != sv)
            .Select(i => $"{i.Key}: C# {cs.GetValueOrDefault(i.Key, "(none)")}, gcc {c.GetValueOrDefault(i.Key, "(none)")}").ToList();
        output.WriteLine($"compared {items.Count} items on arm64");
        Assert.Equal(0, steps["c"].ExitCode);
        Assert.Equal(0, steps["cs"].ExitCode);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {items.Count} items differ on arm64:\n{string.Join("\n", mismatches.Take(50))}");
        Assert.Equal(items.Count, cs.Count);
        Assert.True(items.Count > 1000);
    }
}
