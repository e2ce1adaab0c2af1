using System.Reflection;
using System.Text.RegularExpressions;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Native.Tests;

/// <summary>The other direction of the oracle: everything the headers define is bound. gcc's own list
/// of macros (gcc -dM -E) and the header text name the items; the generator is not asked.</summary>
public sealed partial class HeaderCoverageTests(ITestOutputHelper output)
{
    /// <summary>Function-like macros have no C# constant; each is listed so a new one is noticed.</summary>
    private static readonly HashSet<string> FunctionLikeMacros = ["VFIO_DEVICE_STATE_VALID", "VFIO_DEVICE_STATE_IS_ERROR", "VFIO_DEVICE_STATE_SET_ERROR"];

    public static TheoryData<string, string, string> Headers => new()
    {
        { "linux/vfio.h", "linux/types.h", nameof(VfioUapi) },
        { "linux/iommufd.h", "linux/types.h", nameof(IommufdUapi) },
        { "asm-generic/errno.h", "linux/types.h", nameof(Errno) },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void Every_macro_and_type_of_the_header_is_bound(string header, string baseline, string constantsClass)
    {
        Prerequisite.Require(Repository.OnPath("gcc"), "gcc (apt-get install gcc)");
        var include = Repository.UapiInclude;
        Prerequisite.Require(include is not null, "linux-source-6.12 (apt-get install linux-source-6.12)");

        var macros = Macros(include!, $"#include <{header}>\n").Except(Macros(include!, $"#include <{baseline}>\n#include <linux/ioctl.h>\n")).ToList();
        var constants = typeof(VfioUapi).Assembly.GetType($"Vfio.Native.{constantsClass}")!
            .GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => f.Name).ToHashSet();

        var missing = new List<string>();
        var functionLike = 0;
        foreach (var (name, body, isFunctionLike) in macros.Select(Parse))
        {
            if (isFunctionLike)
            {
                functionLike++;
                Assert.Contains(name, FunctionLikeMacros);
            }
            else if (body.Length > 0 && !constants.Contains(name))
            {
                missing.Add($"#define {name} {body}");
            }
        }

        var text = File.ReadAllText(Path.Combine(include!, header));
        var types = NativeLayout.GeneratedTypes.Select(t => t.GetCustomAttribute<NativeTypeNameAttribute>()?.Name).OfType<string>().ToHashSet();
        foreach (Match match in TypeDefinition().Matches(text))
        {
            var cType = $"{match.Groups[1].Value} {match.Groups[2].Value}";
            if (!types.Contains(cType))
            {
                missing.Add(cType);
            }
        }

        output.WriteLine($"{header}: {macros.Count} macros ({functionLike} function-like), {TypeDefinition().Count(text)} named types");
        Assert.True(missing.Count == 0, $"{header} defines items the bindings lack:\n{string.Join("\n", missing)}");
        Assert.NotEmpty(macros);
    }

    private static HashSet<string> Macros(string include, string source)
    {
        var result = Repository.Run("gcc", ["-dM", "-E", "-nostdinc", "-I", include, "-x", "c", "-"], stdin: source);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
    }

    private static (string Name, string Body, bool FunctionLike) Parse(string define)
    {
        var match = DefineLine().Match(define);
        return (match.Groups["name"].Value, match.Groups["body"].Value.Trim(), match.Groups["args"].Success);
    }

    [GeneratedRegex(@"^#define (?<name>\w+)(?<args>\([^)]*\))?(?<body>.*)$")]
    private static partial Regex DefineLine();

    [GeneratedRegex(@"\b(struct|union|enum)\s+(\w+)\s*\{")]
    private static partial Regex TypeDefinition();
}
