using System.IO.Compression;
using System.Xml.Linq;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Packaging.Tests;

/// <summary>The repository's packages, packed once per test run into a local folder feed outside the
/// repository, with their own build folder artifacts/packaging-tests (so nothing races a build of
/// src/*/bin and obj). Every test
/// class of this assembly is in <see cref="Vfio.Rig.Tests.GuestCollection"/>, so they run one at a time:
/// each step is a dotnet build or a guest boot of its own, and the machine has two cores.</summary>
internal static class LocalFeed
{
    /// <summary>The packages the repository ships.</summary>
    public static readonly string[] Libraries = ["Vfio.Native", "Vfio.Platform"];

    public const string Tool = "sdhci-probe";

    /// <summary>The second tool: vfio-check (src/Vfio.Check).</summary>
    public const string CheckTool = "vfio-check";

    private static readonly Lazy<Packed> PackedLazy = new(Pack);

    /// <summary>A folder outside the repository for this run, removed when the process ends.</summary>
    public static string Work { get; } = CreateWork();

    public static Packed Packages => PackedLazy.Value;

    /// <summary>The version the repository's one place (Directory.Build.props) gives every package.</summary>
    public static string Version => Packages.Version;

    /// <summary>The nuspec of <paramref name="nupkg"/>, its namespace removed for plain queries.</summary>
    public static XElement Nuspec(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/', StringComparison.Ordinal));
        using var stream = entry.Open();
        var root = XDocument.Load(stream).Root!;
        foreach (var element in root.DescendantsAndSelf())
        {
            element.Name = element.Name.LocalName;
        }

        return root;
    }

    /// <summary>Runs dotnet with the given arguments in <paramref name="directory"/> (the temporary folder by default).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Dotnet(IEnumerable<string> arguments, string? directory = null) =>
        Repository.Run("dotnet", arguments, workingDirectory: directory ?? Work);

    private static Packed Pack()
    {
        var feed = Path.Combine(Work, "feed");
        // Inside the repository (artifacts/ is ignored by git), so a CI build maps every source path,
        // the generated ones under obj/ included, to /_/ like a build in src/ would.
        var build = Path.Combine(Repository.Root, "artifacts", "packaging-tests");
        var version = Dotnet(["msbuild", Path.Combine(Repository.Root, "src", "Vfio.Platform"), "-getProperty:Version"], Repository.Root);
        Assert.True(version.ExitCode == 0, $"reading the version failed:\n{version.Stdout}\n{version.Stderr}");

        var log = new System.Text.StringBuilder();
        foreach (var project in new[] { "Vfio.Native", "Vfio.Platform", "Sdhci.Probe", "Vfio.Check" })
        {
            var pack = Dotnet(["pack", Path.Combine(Repository.Root, "src", project), "-c", "Release", "-o", feed, "--artifacts-path", build, "--nologo"], Repository.Root);
            Assert.True(pack.ExitCode == 0, $"dotnet pack {project} failed:\n{pack.Stdout}\n{pack.Stderr}");
            log.AppendLine(pack.Stdout).AppendLine(pack.Stderr);
        }

        return new Packed(feed, version.Stdout.Trim(), log.ToString());
    }

    private static string CreateWork()
    {
        var path = Directory.CreateTempSubdirectory("vfio-packaging-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
                // A guest or a build still holding a file: the folder is in /tmp, left for the OS.
            }
        };
        return path;
    }

    /// <summary>The feed folder, the packages' version and what dotnet pack printed.</summary>
    internal sealed record Packed(string Feed, string Version, string Log)
    {
        public string Nupkg(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

        public string Snupkg(string id) => Path.Combine(Feed, $"{id}.{Version}.snupkg");
    }
}

/// <summary>Facts of the checkout the packages were made from.</summary>
internal static class Checkout
{
    private static readonly Lazy<string?> CommitLazy = new(() =>
    {
        if (!Repository.OnPath("git"))
        {
            return null;
        }

        var head = Repository.Run("git", ["rev-parse", "HEAD"]);
        return head.ExitCode == 0 ? head.Stdout.Trim() : null;
    });

    /// <summary>The git commit of the repository, or null outside a git checkout.</summary>
    public static string? Commit => CommitLazy.Value;

    /// <summary>The commit, required: CI always runs in a git clone.</summary>
    public static string RequireCommit()
    {
        Prerequisite.Require(Commit is not null, "git and a git checkout (the packages record the commit)");
        return Commit!;
    }

    /// <summary>What --version prints: the version and, from Source Link, the commit.</summary>
    public static string InformationalVersion(string version) => Commit is null ? version : $"{version}+{Commit}";
}
