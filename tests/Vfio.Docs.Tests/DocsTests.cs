using System.Text.RegularExpressions;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Docs.Tests;

/// <summary>The documentation against the code it shows: every C# snippet of docs/*.md is a region of the
/// compiled examples, every example region is shown, and every relative link points at a file.</summary>
public sealed partial class DocsTests
{
    private static string Root => Repository.Root;

    private static string ExamplesSource => File.ReadAllText(Path.Combine(Root, "examples", "Vfio.Examples", "Examples.cs"));

    [Fact]
    public void Every_csharp_snippet_of_the_docs_is_an_example_region_verbatim_and_every_region_is_shown()
    {
        var regions = Regions(ExamplesSource);
        var documents = Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Append(Path.Combine(Root, "README.md"));
        var shown = new List<string>();
        foreach (var document in documents)
        {
            foreach (var snippet in Snippets(File.ReadAllText(document)))
            {
                Assert.True(regions.ContainsValue(snippet),
                    $"{Path.GetRelativePath(Root, document)} shows C# that is not a region of examples/Vfio.Examples/Examples.cs:\n{snippet}");
                shown.Add(snippet);
            }
        }

        Assert.True(regions.Count >= 8, $"only {regions.Count} example regions found");
        foreach (var (name, code) in regions)
        {
            Assert.True(shown.Contains(code), $"example region '{name}' is not shown in any document (or differs)");
        }
    }

    [Fact]
    public void Relative_links_in_the_docs_and_the_README_point_at_files_that_exist()
    {
        var files = Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Append(Path.Combine(Root, "README.md"));
        var broken = new List<string>();
        foreach (var file in files)
        {
            foreach (Match link in MarkdownLink().Matches(File.ReadAllText(file)))
            {
                var target = link.Groups[1].Value.Split('#')[0];
                if (target.Length == 0 || target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, target));
                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    broken.Add($"{Path.GetRelativePath(Root, file)}: {link.Value}");
                }
            }
        }

        Assert.Empty(broken);
    }

    [Fact]
    public void The_region_reader_finds_what_it_should()
    {
        var regions = Regions("""
                class C
                {
                    void M()
                    {
                        // example: one
                        var x = 1;
                        if (x == 1)
                        {
                            x++;
                        }
                        // end
                    }
                }
            """);

        Assert.Equal("var x = 1;\nif (x == 1)\n{\n    x++;\n}", Assert.Single(regions).Value);
    }

    private static Dictionary<string, string> Regions(string source)
    {
        var result = new Dictionary<string, string>();
        foreach (Match m in Region().Matches(source.ReplaceLineEndings("\n")))
        {
            var lines = m.Groups["body"].Value.TrimEnd('\n').Split('\n');
            var indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
            result[m.Groups["name"].Value] = string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
        }

        return result;
    }

    private static List<string> Snippets(string markdown) =>
        [.. CsharpBlock().Matches(markdown.ReplaceLineEndings("\n")).Select(m => m.Groups[1].Value.TrimEnd('\n'))];

    [GeneratedRegex(@"^[ \t]*// example: (?<name>\S+)\n(?<body>.*?)^[ \t]*// end\n", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex Region();

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CsharpBlock();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex MarkdownLink();
}
