namespace Vfio.BindGen;

/// <summary>Entry point shared by the command line and the regeneration test.</summary>
public static class Generator
{
    /// <summary>Generates every file of <see cref="HeaderSpec.All"/> into <paramref name="outputDirectory"/>.</summary>
    /// <param name="uapiInclude">The include folder made by <c>make headers_install</c>.</param>
    /// <param name="sourceLabel">Where the headers came from, for the banner (e.g. the package version).</param>
    /// <param name="outputDirectory">Folder that receives the <c>.g.cs</c> files.</param>
    /// <returns>Each file written with the items that were deliberately not bound, and why.</returns>
    public static IReadOnlyList<(string File, IReadOnlyList<string> Skipped)> Run(string uapiInclude, string sourceLabel, string outputDirectory)
    {
        Directory.CreateDirectory(outputDirectory);
        var written = new List<(string, IReadOnlyList<string>)>();
        using var reader = new HeaderReader(uapiInclude);
        foreach (var spec in HeaderSpec.All)
        {
            var model = reader.Read(spec);
            var provenance = spec.SystemHeaders
                ? $"Headers: the C library's ({GlibcLabel()}), x86_64 target; the constants chosen are the same on arm64.\nlibclang: {HeaderReader.ClangVersion}"
                : $"Headers: {sourceLabel} (make headers_install ARCH=x86).\nlibclang: {HeaderReader.ClangVersion}";
            File.WriteAllText(Path.Combine(outputDirectory, spec.OutputFile), CSharpWriter.Write(spec, model, provenance));
            written.Add((spec.OutputFile, model.Skipped));
        }

        return written;
    }

    /// <summary>True when libclang can be loaded on this machine.</summary>
    public static bool LibClangAvailable => LibClang.IsAvailable();

    /// <summary>The repository root: the first folder above <paramref name="start"/> that holds Vfio.sln.</summary>
    public static string FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Vfio.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Vfio.sln above {start}");
    }

    private static string GlibcLabel()
    {
        const string features = "/usr/include/features.h";
        if (!File.Exists(features))
        {
            return "glibc";
        }

        var text = File.ReadAllText(features);
        var major = System.Text.RegularExpressions.Regex.Match(text, @"#define\s+__GLIBC__\s+(\d+)").Groups[1].Value;
        var minor = System.Text.RegularExpressions.Regex.Match(text, @"#define\s+__GLIBC_MINOR__\s+(\d+)").Groups[1].Value;
        return $"glibc {major}.{minor}";
    }
}
