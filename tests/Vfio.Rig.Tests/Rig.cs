using System.Collections.Concurrent;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Rig.Tests;

/// <summary>The test rig (tools/vm/rig) seen from a test: publishes the guest payload once per
/// architecture, boots a guest, runs a command in it and returns its output and exit code.</summary>
internal static class Rig
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Payloads = new();

    public static string Script => Path.Combine(Repository.Root, "tools", "vm", "rig");

    /// <summary>Fails (CI) or skips (elsewhere) when the rig cannot run here.</summary>
    public static void RequireRig(string arch)
    {
        Prerequisite.Require(File.Exists(Script), "tools/vm/rig");
        var qemu = RidOf(arch) == "linux-arm64" ? "qemu-system-aarch64" : "qemu-system-x86_64";
        Prerequisite.Require(Repository.OnPath(qemu), $"{qemu} (tools/setup-host installs it)");
    }

    /// <summary>The .NET runtime identifier of a rig guest (arm64, arm64-virt: linux-arm64; x86_64: linux-x64).</summary>
    public static string RidOf(string arch) => arch.StartsWith("arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64";

    /// <summary>The folder of the self-contained guest checks for <paramref name="arch"/>, published on first use
    /// (once per runtime identifier: both arm64 guests run the same build).</summary>
    public static string GuestChecks(string arch) => Payloads.GetOrAdd(RidOf(arch), rid => new Lazy<string>(() =>
    {
        var output = Path.Combine(Repository.Root, "artifacts", "guest", rid);
        var publish = Repository.Run("dotnet", ["publish", "tests/Vfio.Guest.Checks", "-r", rid, "-c", "Release", "-o", output, "--nologo", "-v", "q"]);
        Assert.True(publish.ExitCode == 0, $"publishing the guest checks for {rid} failed:\n{publish.Stdout}\n{publish.Stderr}");
        return output;
    })).Value;

    /// <summary>sdhci-probe for <paramref name="arch"/> as tools/run-probe gives it to the guest: the
    /// NativeAOT executable on arm64 when this machine can link one (see <see cref="CanLinkAot"/>), else
    /// the self-contained trimmed ReadyToRun build. A payload path for <see cref="Run"/>.</summary>
    public static string Probe(string arch) =>
        RidOf(arch) == "linux-arm64" && CanLinkAot("linux-arm64") ? Aot("linux-arm64") : ProbeJit(arch);

    /// <summary>sdhci-probe published self-contained, trimmed and ReadyToRun for <paramref name="arch"/>:
    /// the folder to pass as payload.</summary>
    public static string ProbeJit(string arch) => Payloads.GetOrAdd("probe-" + RidOf(arch), _ => new Lazy<string>(() =>
    {
        var rid = RidOf(arch);
        var output = Path.Combine(Repository.Root, "artifacts", "probe", rid);
        var publish = Repository.Run("dotnet", ["publish", "src/Sdhci.Probe", "-r", rid, "-c", "Release", "--self-contained", "-p:PublishTrimmed=true", "-p:PublishReadyToRun=true", "-p:DebugType=none", "-o", output, "--nologo", "-v", "q"]);
        Assert.True(publish.ExitCode == 0, $"publishing sdhci-probe for {rid} failed:\n{publish.Stdout}\n{publish.Stderr}");
        return output;
    })).Value;

    /// <summary>True when this machine can link a NativeAOT executable for <paramref name="rid"/>: gcc for
    /// the host's own architecture, Debian's cross gcc (gcc-aarch64-linux-gnu) for arm64 on x64.</summary>
    public static bool CanLinkAot(string rid)
    {
        var host = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture;
        var native = (rid, host) is ("linux-arm64", System.Runtime.InteropServices.Architecture.Arm64) or ("linux-x64", System.Runtime.InteropServices.Architecture.X64);
        return native ? Repository.OnPath("gcc") || Repository.OnPath("clang") : rid == "linux-arm64" && Repository.OnPath("aarch64-linux-gnu-gcc");
    }

    /// <summary>The NativeAOT sdhci-probe for <paramref name="rid"/> from tools/publish-aot (which compiles it
    /// once for a given source tree, one compile at a time across processes): the executable's path.</summary>
    public static string Aot(string rid) => Payloads.GetOrAdd("aot-" + rid, _ => new Lazy<string>(() =>
    {
        var publish = Repository.Run(Path.Combine(Repository.Root, "tools", "publish-aot"), [rid]);
        Assert.True(publish.ExitCode == 0, $"tools/publish-aot {rid} failed:\n{publish.Stdout}\n{publish.Stderr}");
        var path = publish.Stdout.Trim().Split('\n')[^1];
        Assert.True(File.Exists(path), $"tools/publish-aot {rid} printed {path}, which does not exist");
        return path;
    })).Value;

    /// <summary>Runs several shell steps in one boot; each step's output and exit code come back by name.</summary>
    public static Dictionary<string, (int ExitCode, string Output)> RunSteps(string arch, string payload, params (string Name, string Command)[] steps) =>
        RunSteps(arch, payload, [], steps);

    /// <summary><see cref="RunSteps(string, string, ValueTuple{string, string}[])"/> with options for <c>rig run</c> (such as <c>--card-spec 3</c>).</summary>
    public static Dictionary<string, (int ExitCode, string Output)> RunSteps(string arch, string payload, IReadOnlyList<string> rigOptions,
        params (string Name, string Command)[] steps)
    {
        var script = string.Join("; ", steps.Select(s => $"echo '@@step {s.Name}'; ({s.Command}) 2>&1; echo \"@@exit $?\""));
        var (_, output) = Run(arch, script, payload, rigOptions: rigOptions);
        var results = new Dictionary<string, (int, string)>();
        string? name = null;
        var text = new System.Text.StringBuilder();
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("@@step ", StringComparison.Ordinal))
            {
                name = line[7..].Trim();
                text.Clear();
            }
            else if (line.StartsWith("@@exit ", StringComparison.Ordinal) && name is not null)
            {
                results[name] = (int.Parse(line[7..].Trim(), System.Globalization.CultureInfo.InvariantCulture), text.ToString());
                name = null;
            }
            else if (name is not null)
            {
                text.AppendLine(line);
            }
        }

        foreach (var (step, _) in steps)
        {
            Assert.True(results.ContainsKey(step), $"step {step} did not finish in the {arch} guest:\n{output}");
        }

        return results;
    }

    /// <summary>Boots <paramref name="arch"/>, runs <paramref name="command"/> with <c>/bin/sh -c</c>,
    /// and returns the command's exit code and output (the kernel console goes to the rig's log).</summary>
    public static (int ExitCode, string Output) Run(string arch, string command, string? payload = null, int timeoutSeconds = 240,
        IReadOnlyList<string>? rigOptions = null)
    {
        var args = new List<string> { "run", arch, "--timeout", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        args.AddRange(rigOptions ?? []);
        if (payload is not null)
        {
            args.AddRange(["--payload", payload]);
        }

        args.Add("--");
        args.Add(command);
        var result = Repository.Run(Script, args);
        Assert.True(result.ExitCode is not (124 or 125), $"the {arch} guest did not run the command (exit {result.ExitCode}):\n{result.Stdout}\n{result.Stderr}");
        // stdout is the guest command's own output (its stderr merged in the guest); the host-side
        // stderr carries the rig's progress lines, which are not the command's.
        return (result.ExitCode, result.Stdout);
    }

    /// <summary>The key=value lines a guest program printed.</summary>
    public static Dictionary<string, string> Values(string output) =>
        output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);

    /// <summary>Writes each step's exit code and output to the test's log (shown when it fails).</summary>
    public static void Log(ITestOutputHelper output, Dictionary<string, (int ExitCode, string Output)> results)
    {
        foreach (var (name, (exit, text)) in results)
        {
            output.WriteLine($"--- {name} (exit {exit})\n{text}");
        }
    }

    /// <summary>SHA-256 of <paramref name="count"/> blocks of the card image from block <paramref name="first"/>,
    /// in lower-case hex as the guest's <c>sha256sum</c> prints it.</summary>
    public static string CardHash(int first, int count) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(CardBytes.Value.AsSpan(first * 512, count * 512)));

    /// <summary>Checks a step <c>sdhci-probe read ... --json --out F &amp;&amp; sha256sum &lt; F</c>: it succeeded, the
    /// bytes it wrote are the card image's <paramref name="count"/> blocks from <paramref name="first"/>, and its
    /// JSON report says so. Returns the report for the caller's own checks.</summary>
    public static System.Text.Json.JsonElement AssertProbeRead((int ExitCode, string Output) step, int first, int count)
    {
        Assert.Equal(0, step.ExitCode);
        Assert.Contains($"{CardHash(first, count)}  -", step.Output, StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(step.Output[..(step.Output.LastIndexOf('}') + 1)]);
        var report = json.RootElement.Clone();
        Assert.Equal(first, report.GetProperty("lba").GetInt64());
        Assert.Equal(count * 512L, report.GetProperty("bytes").GetInt64());
        Assert.True(report.GetProperty("transferSeconds").GetDouble() > 0);
        return report;
    }

    /// <summary>A step for a probe command expected to fail: runs it, then prints its exit code (<c>rc=N</c>)
    /// and where the device's driver link points (<paramref name="deviceDirectory"/>: its /sys/bus/*/devices entry).</summary>
    public static string Refused(string command, string deviceDirectory) => $"{command}; echo rc=$?; readlink {deviceDirectory}/driver";

    /// <summary>Checks a <see cref="Refused"/> step: exit code <paramref name="exitCode"/>, every one of
    /// <paramref name="messages"/> in the output, and the device on <paramref name="driver"/> afterwards.</summary>
    public static void AssertRefused((int ExitCode, string Output) step, int exitCode, string driver, params string[] messages)
    {
        Assert.Contains($"rc={exitCode}\n", step.Output, StringComparison.Ordinal);
        foreach (var message in messages)
        {
            Assert.Contains(message, step.Output, StringComparison.Ordinal);
        }

        Assert.EndsWith($"/drivers/{driver}", step.Output.Trim(), StringComparison.Ordinal);
    }

    /// <summary>SHA-256 of <paramref name="count"/> blocks from <paramref name="first"/> as tools/vm/card/make-card-image.c
    /// makes them, computed from its recipe (any card size: no image is read).</summary>
    public static string CardRecipeHash(long first, int count)
    {
        var bytes = new byte[count * 512];
        for (var i = 0; i < count; i++)
        {
            var block = bytes.AsSpan(i * 512, 512);
            var lba = (uint)(first + i);
            System.Text.Encoding.ASCII.GetBytes($"VFIO-NET LBA {lba:D8}          \n").CopyTo(block);
            var x = unchecked((lba + 1u) * 0x9E3779B1u);
            for (var w = 0; w < 120; w++)
            {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(block[(32 + (4 * w))..], x);
            }
        }

        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
    }

    private static readonly Lazy<byte[]> CardBytes = new(() => File.ReadAllBytes(CardImage()));

    /// <summary>The path of the SD card image the guests boot with.</summary>
    public static string CardImage()
    {
        var result = Repository.Run(Script, ["card-image"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Trim();
    }
}

[CollectionDefinition(nameof(GuestCollection), DisableParallelization = true)]
public sealed class GuestCollection;
