using Vfio.TestSupport;
using Xunit;

namespace Vfio.Tools.Tests;

/// <summary>The shell scripts of tools/, bench/ and .ci/: shellcheck finds nothing, and every early
/// failure (a missing tool, not root, apt's lists unusable, a broken cache entry) prints what failed
/// and exits non-zero instead of ending in silence. Each case runs on a scratch cache.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ScriptTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("vfio-tools-test");

    public void Dispose() => _scratch.Delete(recursive: true);

    /// <summary>Every tracked file whose first line runs bash or sh.</summary>
    public static TheoryData<string> Scripts() => [.. ScriptList()];

    private static List<string> ScriptList()
    {
        var listed = Repository.Run("git", ["ls-files"]);
        var data = new List<string>();
        foreach (var file in listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(Repository.Root, file);
            if (File.Exists(path) && File.ReadLines(path).FirstOrDefault() is { } first && first.StartsWith("#!", StringComparison.Ordinal)
                && (first.EndsWith("bash", StringComparison.Ordinal) || first.EndsWith("/sh", StringComparison.Ordinal)))
            {
                data.Add(file);
            }
        }

        return data;
    }

    [Fact]
    public void The_scripts_are_found()
    {
        var scripts = ScriptList();
        Assert.Contains(".ci/run", scripts);
        Assert.Contains("tools/setup-host", scripts);
        Assert.Contains("tools/vm/rig", scripts);
        Assert.True(scripts.Count >= 12, $"only {scripts.Count} scripts found");
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Shellcheck_finds_nothing(string script)
    {
        Prerequisite.Require(Repository.OnPath("shellcheck"), "shellcheck (tools/setup-host installs it)");

        var result = Repository.Run("shellcheck", ["--check-sourced", "--external-sources", "--format=gcc", script]);

        Assert.True(result.ExitCode == 0, $"shellcheck {script}:\n{result.Stdout}{result.Stderr}");
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Every_bash_script_reports_the_command_that_failed(string script)
    {
        var text = File.ReadAllText(Path.Combine(Repository.Root, script));
        if (!text.StartsWith("#!/usr/bin/env bash", StringComparison.Ordinal) && !text.StartsWith("#!/bin/bash", StringComparison.Ordinal))
        {
            return; // busybox sh in the guests: no ERR trap there; their failures show on the console
        }

        Assert.Contains("set -Eeuo pipefail", text, StringComparison.Ordinal);
        Assert.Matches(@"trap '[^']*\$LINENO[^']*\$BASH_COMMAND[^']*' ERR", text);
    }

    [Fact]
    public void Setup_as_another_user_with_something_missing_names_the_command_to_run_as_root()
    {
        Prerequisite.Require(Repository.OnPath("setpriv"), "setpriv (util-linux)");
        Prerequisite.Require(Environment.UserName == "root", "root, to run the script as nobody");
        // A copy that nobody can read, with one package no machine has.
        var copy = Directory.CreateDirectory(Path.Combine(_scratch.FullName, "repo"));
        Directory.CreateDirectory(Path.Combine(copy.FullName, "tools", "vm"));
        File.Copy(Path.Combine(Repository.Root, "tools", "setup-host"), Path.Combine(copy.FullName, "tools", "setup-host"));
        File.WriteAllText(Path.Combine(copy.FullName, "tools", "apt-packages.txt"), "vfio-net-no-such-package\n");
        File.WriteAllText(Path.Combine(copy.FullName, "tools", "vm", "apt-packages.txt"), "# none\n");
        MakeReadableByAll(_scratch.FullName);

        var result = Repository.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "bash", Path.Combine(copy.FullName, "tools", "setup-host")]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("vfio-net-no-such-package", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"sudo {copy.FullName}/tools/setup-host", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("apt-get", result.Stderr, StringComparison.Ordinal); // it did not try
    }

    [Fact]
    public void The_rig_without_qemu_says_which_tool_is_missing_and_how_to_get_it()
    {
        var result = RunWith(["qemu-system-aarch64"], Rig, "build", "arm64");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("'qemu-system-aarch64' not found", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("tools/setup-host", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_rig_with_unusable_apt_lists_says_so_instead_of_exiting_silently()
    {
        // apt-cache as it answers on a machine whose lists were never fetched for the guests' architectures.
        var fakes = Directory.CreateDirectory(Path.Combine(_scratch.FullName, "fake-bin"));
        var aptCache = Path.Combine(fakes.FullName, "apt-cache");
        File.WriteAllText(aptCache, "#!/bin/sh\necho 'E: No packages found' >&2\nexit 100\n");
        File.SetUnixFileMode(aptCache, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        var result = RunWith([], Rig, ["build", "x86_64"], prependPath: fakes.FullName);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("apt-cache depends linux-image-amd64:amd64 failed (E: No packages found)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("run tools/setup-host as root", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_broken_cache_entry_is_reported_with_the_command_and_line()
    {
        Prerequisite.Require(Repository.OnPath("gcc"), "gcc (tools/setup-host installs it)");
        File.WriteAllText(Path.Combine(_scratch.FullName, "card"), "a file where the card folder belongs");

        var result = RunWith([], Rig, "card-image");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Matches(@"rig: line \d+: .*mkdir -p .* failed \(exit 1\)", result.Stderr);
    }

    [Fact]
    public void The_rig_runs_through_a_symbolic_link()
    {
        // Its parts (tools/vm/lib) and inputs are found next to the file the link points at.
        Prerequisite.Require(Repository.OnPath("gcc"), "gcc (tools/setup-host installs it)");
        var link = Path.Combine(_scratch.FullName, "rig-link");
        File.CreateSymbolicLink(link, Rig);

        var result = RunWith([], link, "card-image");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var image = result.Stdout.Trim();
        Assert.StartsWith(Path.Combine(_scratch.FullName, "card", "card-"), image, StringComparison.Ordinal);
        Assert.Equal(64L << 20, new FileInfo(image).Length);
    }

    [Fact]
    public void Publishing_without_dotnet_on_the_path_says_what_failed()
    {
        var result = RunWith(["dotnet"], Path.Combine(Repository.Root, "tools", "publish-aot"), "x64");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Matches(@"publish-aot: line \d+: .* failed \(exit \d+\)", result.Stderr);
    }

    [Fact]
    public void Setup_without_dotnet_says_what_to_install()
    {
        var result = RunWith(["dotnet"], Path.Combine(Repository.Root, "tools", "setup-host"), "--packages");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("dotnet not found: install the .NET SDK", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_argument_is_a_usage_error()
    {
        foreach (var (script, args) in new[] { (Rig, new[] { "build", "sparc" }), (Path.Combine(Repository.Root, "tools", "setup-host"), new[] { "--bogus" }), (Path.Combine(Repository.Root, "tools", "publish-aot"), new[] { "sparc" }) })
        {
            var result = RunWith([], script, args);

            Assert.NotEqual(0, result.ExitCode);
            Assert.True(result.Stderr.Contains("usage", StringComparison.OrdinalIgnoreCase) || result.Stderr.Contains("unknown", StringComparison.OrdinalIgnoreCase),
                $"{script} {string.Join(' ', args)}: {result.Stderr}");
        }
    }

    [Theory]
    [InlineData("--ram-mib", "100", "--ram-mib needs MiB from 256 to 6144")]
    [InlineData("--ram-mib", "lots", "--ram-mib needs MiB from 256 to 6144")]
    [InlineData("--card-mib", "3000", "--card-mib needs a power of two")]
    [InlineData("--card-spec", "4", "--card-spec needs 1, 2 or 3")]
    [InlineData("--kernel", "no-such-variant", "no tools/vm/arm64/kernel-no-such-variant.fragment")]
    [InlineData("--kernel", "../etc", "--kernel needs a variant name")]
    public void A_bad_run_option_is_refused_before_anything_is_built_or_booted(string option, string value, string message)
    {
        var result = RunWith([], Rig, "run", "arm64", option, value, "--", "true");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("build", result.Stdout + result.Stderr, StringComparison.OrdinalIgnoreCase); // checked first
    }

    private static string Rig => Path.Combine(Repository.Root, "tools", "vm", "rig");

    private (int ExitCode, string Stdout, string Stderr) RunWith(string[] hidden, string script, params string[] args) =>
        RunWith(hidden, script, args, null);

    /// <summary>Runs a script with a scratch rig cache and a PATH from which <paramref name="hidden"/>
    /// programs are gone (a folder of links to everything else on PATH).</summary>
    private (int ExitCode, string Stdout, string Stderr) RunWith(string[] hidden, string script, string[] args, string? prependPath)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_scratch.FullName, "bin-" + string.Join('-', hidden)));
        if (!bin.EnumerateFileSystemInfos().Any())
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Distinct())
            {
                if (!Directory.Exists(dir))
                {
                    continue;
                }

                foreach (var program in Directory.EnumerateFileSystemEntries(dir))
                {
                    var name = Path.GetFileName(program);
                    var link = Path.Combine(bin.FullName, name);
                    if (!hidden.Contains(name) && !File.Exists(link) && new FileInfo(link).LinkTarget is null)
                    {
                        File.CreateSymbolicLink(link, program);
                    }
                }
            }
        }

        var path = prependPath is null ? bin.FullName : $"{prependPath}:{bin.FullName}";
        var command = "export PATH=\"$1\" VFIO_RIG_CACHE=\"$2\" VFIO_NET_CACHE=\"$2\"; shift 2; exec bash \"$@\"";
        return Repository.Run("/bin/sh", ["-c", command, "sh", path, _scratch.FullName, script, .. args]);
    }

    private static void MakeReadableByAll(string folder)
    {
        var all = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(folder, all);
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(entry, all);
        }

        for (var dir = Directory.GetParent(folder); dir is not null; dir = dir.Parent)
        {
            if ((File.GetUnixFileMode(dir.FullName) & UnixFileMode.OtherExecute) == 0)
            {
                throw new InvalidOperationException($"{dir.FullName} is not searchable by others: the scratch copy must be reachable by nobody");
            }
        }
    }
}
