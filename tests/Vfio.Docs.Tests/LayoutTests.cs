using System.Text.RegularExpressions;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Docs.Tests;

/// <summary>The layout a newcomer relies on: under src/, one top-level type per file, in a file named after it.</summary>
public sealed partial class LayoutTests
{
    // Files that hold several types on purpose: generated code, one C header's interop structs written as the
    // generator writes them, and a record with its source-generated JSON context.
    private static readonly string[] Exempt =
    [
        "src/Vfio.Native/Generated/",
        "src/Vfio.Native/Libc/Libc.Socket.Types.cs",
        "src/Vfio.Platform/Preparation/BindingRecord.cs",
    ];

    [Fact]
    public void Every_source_file_holds_one_top_level_type_named_after_it()
    {
        var root = Repository.Root;
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal)
                || Exempt.Any(e => relative.StartsWith(e, StringComparison.Ordinal)))
            {
                continue;
            }

            var types = TopLevelType().Matches(File.ReadAllText(file)).Select(m => m.Groups["name"].Value).Distinct().ToList();
            var stem = Path.GetFileNameWithoutExtension(file).Split('.')[0];
            if (types.Count > 1)
            {
                problems.Add($"{relative}: {types.Count} top-level types ({string.Join(", ", types)})");
            }
            else if (types.Count == 1 && types[0] != stem && types[0] != stem.Replace("OfT", "", StringComparison.Ordinal)
                && stem != "Program")
            {
                problems.Add($"{relative}: holds {types[0]}");
            }
        }

        Assert.True(problems.Count == 0, "One type per file, named after it:\n" + string.Join("\n", problems));
    }

    // A declaration at the start of a line (top level: file-scoped namespaces, so no indentation).
    [GeneratedRegex(@"^(?:(?:public|internal|file|sealed|static|abstract|readonly|partial|unsafe|ref)\s+)*(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?)\s+(?<name>\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();
}
