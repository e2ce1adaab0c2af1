using System.IO.Compression;
using System.Reflection.Metadata;
using System.Xml.Linq;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Packaging.Tests;

// Inside the namespace: Vfio.Rig (a namespace) would hide the rig class otherwise.
using GuestCollection = Vfio.Rig.Tests.GuestCollection;

/// <summary>What is inside the packages dotnet pack makes: the metadata a package page shows, the
/// README, the XML docs IntelliSense reads, the symbols package, and nothing that breaks a build.</summary>
[Collection(nameof(GuestCollection))]
public sealed class PackageContentTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("Vfio.Native")]
    [InlineData("Vfio.Platform")]
    public void A_library_package_has_its_metadata_readme_assembly_and_xml_docs(string id)
    {
        var packages = LocalFeed.Packages;
        var nupkg = packages.Nupkg(id);
        Assert.True(File.Exists(nupkg), $"{nupkg} was not packed; the feed has: {string.Join(", ", Directory.GetFiles(packages.Feed).Select(Path.GetFileName))}");
        var nuspec = LocalFeed.Nuspec(nupkg);
        var metadata = nuspec.Element("metadata")!;

        Assert.Equal(id, metadata.Element("id")?.Value);
        Assert.Equal(packages.Version, metadata.Element("version")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element("authors")?.Value));
        Assert.False(string.IsNullOrWhiteSpace(metadata.Element("description")?.Value));
        Assert.Contains("vfio", metadata.Element("tags")?.Value.Split(' ') ?? []);
        var license = metadata.Element("license");
        Assert.Equal("expression", license?.Attribute("type")?.Value);
        Assert.Equal("MIT", license?.Value);
        Assert.Equal("README.md", metadata.Element("readme")?.Value);

        using var zip = ZipFile.OpenRead(nupkg);
        var readme = ReadEntry(zip, "README.md");
        Assert.StartsWith($"# {id}", readme, StringComparison.Ordinal);
        Assert.Contains("```csharp", readme, StringComparison.Ordinal);

        Assert.NotNull(zip.GetEntry($"lib/net10.0/{id}.dll"));
        var docs = XDocument.Parse(ReadEntry(zip, $"lib/net10.0/{id}.xml"));
        Assert.Equal(id, docs.Root?.Element("assembly")?.Element("name")?.Value);
        var members = docs.Descendants("member").ToList();
        output.WriteLine($"{id}: {members.Count} documented members");
        Assert.True(members.Count(m => m.Attribute("name")!.Value.StartsWith("T:", StringComparison.Ordinal)) >= 5, $"{id}.xml documents too few types");
    }

    [Fact]
    public void Vfio_Platform_depends_on_the_Vfio_Native_of_the_same_version()
    {
        var metadata = LocalFeed.Nuspec(LocalFeed.Packages.Nupkg("Vfio.Platform")).Element("metadata")!;
        var dependency = metadata.Descendants("dependency").Single();
        Assert.Equal("Vfio.Native", dependency.Attribute("id")?.Value);
        Assert.Equal(LocalFeed.Version, dependency.Attribute("version")?.Value);
        Assert.Equal("net10.0", dependency.Parent?.Attribute("targetFramework")?.Value);
    }

    [Theory]
    [InlineData("Vfio.Native")]
    [InlineData("Vfio.Platform")]
    [InlineData(LocalFeed.Tool)]
    [InlineData(LocalFeed.CheckTool)]
    public void Every_package_records_the_git_commit_it_was_built_from(string id)
    {
        var commit = Checkout.RequireCommit();
        var repository = LocalFeed.Nuspec(LocalFeed.Packages.Nupkg(id)).Element("metadata")!.Element("repository");
        Assert.NotNull(repository);
        Assert.Equal("git", repository.Attribute("type")?.Value);
        Assert.Equal(commit, repository.Attribute("commit")?.Value);
        // The address is there when the clone has an http(s) remote; it must then be one.
        if (repository.Attribute("url")?.Value is { } url)
        {
            Assert.True(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http", $"repository url {url}");
        }
    }

    [Theory]
    [InlineData("Vfio.Native", "lib/net10.0/")]
    [InlineData("Vfio.Platform", "lib/net10.0/")]
    [InlineData(LocalFeed.Tool, "tools/net10.0/any/")]
    [InlineData(LocalFeed.CheckTool, "tools/net10.0/any/")]
    public void Every_package_has_a_symbols_package_with_the_portable_pdb_of_the_same_build(string id, string folder)
    {
        var packages = LocalFeed.Packages;
        var assemblyName = id; // each tool's assembly is named for its command (AssemblyName in its .csproj)
        Assert.True(File.Exists(packages.Snupkg(id)), $"no {Path.GetFileName(packages.Snupkg(id))}");

        using var symbols = ZipFile.OpenRead(packages.Snupkg(id));
        using var package = ZipFile.OpenRead(packages.Nupkg(id));
        var pdbEntry = symbols.GetEntry($"{folder}{assemblyName}.pdb");
        Assert.NotNull(pdbEntry);
        var dllEntry = package.GetEntry($"{folder}{assemblyName}.dll");
        Assert.NotNull(dllEntry);

        using var pdbStream = Copy(pdbEntry);
        using var pdbProvider = MetadataReaderProvider.FromPortablePdbStream(pdbStream);
        var pdb = pdbProvider.GetMetadataReader();
        using var dllStream = Copy(dllEntry);
        using var pe = new System.Reflection.PortableExecutable.PEReader(dllStream);
        var codeView = pe.ReadDebugDirectory().Single(d => d.Type == System.Reflection.PortableExecutable.DebugDirectoryEntryType.CodeView);
        var pdbId = new BlobContentId(pdb.DebugMetadataHeader!.Id);
        Assert.Equal(pe.ReadCodeViewDebugDirectoryData(codeView).Guid, pdbId.Guid);
        Assert.Contains(pe.ReadDebugDirectory(), d => d.Type == System.Reflection.PortableExecutable.DebugDirectoryEntryType.Reproducible);

        var documents = pdb.Documents.Select(d => pdb.GetString(pdb.GetDocument(d).Name)).ToList();
        Assert.NotEmpty(documents);
        if (Prerequisite.InCi)
        {
            // ContinuousIntegrationBuild: source paths are mapped to /_/, nothing of the build machine's.
            Assert.All(documents, d => Assert.StartsWith("/_/", d, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(LocalFeed.Tool)]
    [InlineData(LocalFeed.CheckTool)]
    public void A_tool_package_is_a_dotnet_tool_with_its_command_name(string tool)
    {
        var packages = LocalFeed.Packages;
        var nupkg = packages.Nupkg(tool);
        Assert.True(File.Exists(nupkg), $"{nupkg} was not packed; the feed has: {string.Join(", ", Directory.GetFiles(packages.Feed).Select(Path.GetFileName))}");
        var metadata = LocalFeed.Nuspec(nupkg).Element("metadata")!;
        Assert.Equal("DotnetTool", metadata.Element("packageTypes")?.Element("packageType")?.Attribute("name")?.Value);
        Assert.Equal(packages.Version, metadata.Element("version")?.Value);
        Assert.Equal("MIT", metadata.Element("license")?.Value);

        using var zip = ZipFile.OpenRead(nupkg);
        var settings = XDocument.Parse(ReadEntry(zip, "tools/net10.0/any/DotnetToolSettings.xml"));
        var command = settings.Descendants("Command").Single();
        Assert.Equal(tool, command.Attribute("Name")?.Value);
        Assert.Equal($"{tool}.dll", command.Attribute("EntryPoint")?.Value);
        Assert.NotNull(zip.GetEntry("tools/net10.0/any/Vfio.Platform.dll"));
        Assert.StartsWith($"# {tool}", ReadEntry(zip, "README.md"), StringComparison.Ordinal);
        // The tool runs on the user's shared runtime: no runtime of its own, no native AOT files.
        Assert.DoesNotContain(zip.Entries, e => e.FullName.Contains("System.Private.CoreLib", StringComparison.Ordinal));
    }

    [Fact]
    public void Packing_prints_no_warning()
    {
        var log = LocalFeed.Packages.Log;
        output.WriteLine(log);
        var warnings = log.Split('\n').Where(l => l.Contains("warning", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(warnings.Count == 0, string.Join('\n', warnings));
        Assert.Contains("Successfully created package", log, StringComparison.Ordinal);
    }

    private static string ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name);
        Assert.True(entry is not null, $"the package has no {name}: {string.Join(", ", zip.Entries.Select(e => e.FullName))}");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    private static MemoryStream Copy(ZipArchiveEntry entry)
    {
        var memory = new MemoryStream();
        using (var stream = entry.Open())
        {
            stream.CopyTo(memory);
        }

        memory.Position = 0;
        return memory;
    }
}
