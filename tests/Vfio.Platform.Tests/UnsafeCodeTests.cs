using System.Text.RegularExpressions;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The standard "unsafe code lives in Vfio.Native and the MMIO core, nowhere else", checked on the
/// sources: the keyword in code (comments and strings removed), and AllowUnsafeBlocks in project files.</summary>
public sealed partial class UnsafeCodeTests
{
    private static readonly string[] Allowed = ["src/Vfio.Native/", "src/Vfio.Platform/Mmio/"];

    [Fact]
    public void The_unsafe_keyword_appears_only_in_Vfio_Native_and_the_MMIO_core()
    {
        var root = Repository.Root;
        var offenders = new List<string>();
        var allowedUses = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal))
            {
                continue;
            }

            var code = CommentsAndStrings().Replace(File.ReadAllText(file), " ");
            if (!UnsafeKeyword().IsMatch(code))
            {
                continue;
            }

            if (Allowed.Any(a => relative.StartsWith(a, StringComparison.Ordinal)))
            {
                allowedUses++;
            }
            else
            {
                offenders.Add(relative);
            }
        }

        Assert.Empty(offenders);
        Assert.True(allowedUses >= 3, "the scan found too little unsafe code where it is expected (MmioRegion, MmioView, libc bindings): is it still looking?");
    }

    [Fact]
    public void Only_the_two_projects_allowed_unsafe_code_enable_it()
    {
        var enabling = Directory.EnumerateFiles(Path.Combine(Repository.Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Where(p => File.ReadAllText(p).Contains("<AllowUnsafeBlocks>true", StringComparison.Ordinal))
            .Select(p => Path.GetFileName(p))
            .Order(StringComparer.Ordinal);

        Assert.Equal(["Vfio.Native.csproj", "Vfio.Platform.csproj"], enabling);
    }

    // Line and block comments, verbatim/regular strings and char literals (good enough for our sources).
    [GeneratedRegex("""//[^\n]*|/\*.*?\*/|@"(?:[^"]|"")*"|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])'""", RegexOptions.Singleline)]
    private static partial Regex CommentsAndStrings();

    [GeneratedRegex(@"\bunsafe\b")]
    private static partial Regex UnsafeKeyword();
}
