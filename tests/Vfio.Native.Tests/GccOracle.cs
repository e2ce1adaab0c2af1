using System.Text;
using Vfio.TestSupport;

namespace Vfio.Native.Tests;

/// <summary>Compiles a C program with gcc that prints, for each <see cref="AbiItem"/>, what C computes
/// from the same headers, runs it, and returns key to value. gcc, not our generator, is the oracle.</summary>
internal static class GccOracle
{
    public static Dictionary<string, string> Evaluate(IReadOnlyList<AbiItem> items, string uapiInclude)
    {
        var dir = Directory.CreateTempSubdirectory("vfio-abi-oracle");
        try
        {
            var binary = Compile(items, uapiInclude, Path.Combine(dir.FullName, "oracle"), "gcc");
            var run = Repository.Run(binary, []);
            if (run.ExitCode != 0)
            {
                throw new InvalidOperationException($"the oracle program failed: {run.Stderr}");
            }

            return Parse(run.Stdout);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Lines of "key TAB value", as both the oracle and the C# side print them.</summary>
    public static Dictionary<string, string> Parse(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.TrimEnd('\r').Split('\t', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1]);

    /// <summary>Writes and compiles the oracle program; <paramref name="compiler"/> may be a cross
    /// compiler (aarch64-linux-gnu-gcc with -static) whose binary runs in the arm64 guest.</summary>
    public static string Compile(IReadOnlyList<AbiItem> items, string uapiInclude, string binary, string compiler, params string[] flags)
    {
        var program = new StringBuilder();
        program.Append("#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n");
        foreach (var header in NativeLayout.Headers)
        {
            program.Append($"#include <{header}>\n");
        }

        program.Append("int main(void)\n{\n");
        foreach (var item in items)
        {
            program.Append(item.IsString
                ? $"    printf(\"%s\\t%s\\n\", \"{item.Key}\", {item.CExpression});\n"
                : $"    printf(\"%s\\t%lld\\n\", \"{item.Key}\", (long long)({item.CExpression}));\n");
        }

        program.Append("    return 0;\n}\n");

        var source = binary + ".c";
        File.WriteAllText(source, program.ToString());
        // The uapi folder comes first so <linux/...> is the 6.12 header the bindings came from.
        var compile = Repository.Run(compiler, ["-std=gnu11", "-Wall", "-Werror", .. flags, "-I", uapiInclude, "-o", binary, source]);
        if (compile.ExitCode != 0)
        {
            throw new InvalidOperationException($"{compiler} rejected the oracle program (a generated name that C does not know?):\n{compile.Stderr}");
        }

        return binary;
    }
}
