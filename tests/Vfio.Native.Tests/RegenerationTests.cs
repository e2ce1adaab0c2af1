using Vfio.BindGen;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Native.Tests;

/// <summary>The committed bindings are exactly what the generator makes today: nobody edited them by
/// hand and nobody changed the generator without regenerating.</summary>
public sealed class RegenerationTests(ITestOutputHelper output)
{
    [Fact]
    public void Regenerating_gives_the_committed_files()
    {
        Prerequisite.Require(Generator.LibClangAvailable, "libclang (apt-get install libclang1-14 libclang-common-14-dev)");
        var include = Repository.UapiInclude;
        Prerequisite.Require(include is not null, "linux-source-6.12 (apt-get install linux-source-6.12)");

        var committed = Path.Combine(Repository.Root, "src", "Vfio.Native", "Generated");
        var fresh = Directory.CreateTempSubdirectory("vfio-regen");
        try
        {
            var label = File.ReadLines(Path.Combine(committed, "vfio.g.cs")).First(l => l.StartsWith("//   Headers: ", StringComparison.Ordinal));
            Generator.Run(include!, SourceLabel(label), fresh.FullName);

            var expectedFiles = Directory.GetFiles(committed, "*.g.cs").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            var actualFiles = Directory.GetFiles(fresh.FullName, "*.g.cs").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expectedFiles, actualFiles);

            foreach (var file in actualFiles)
            {
                var expected = File.ReadAllLines(Path.Combine(committed, file!));
                var actual = File.ReadAllLines(Path.Combine(fresh.FullName, file!));
                var first = Enumerable.Range(0, Math.Max(expected.Length, actual.Length))
                    .FirstOrDefault(i => i >= expected.Length || i >= actual.Length || expected[i] != actual[i], -1);
                if (first >= 0)
                {
                    Assert.Fail($"{file} differs from a fresh generation at line {first + 1}:\n  committed: {Line(expected, first)}\n  generated: {Line(actual, first)}\nRun tools/regenerate-bindings and commit the result.");
                }

                output.WriteLine($"{file}: {actual.Length} lines, identical");
            }
        }
        finally
        {
            fresh.Delete(recursive: true);
        }
    }

    [Fact]
    public void Generating_twice_gives_identical_output()
    {
        Prerequisite.Require(Generator.LibClangAvailable, "libclang (apt-get install libclang1-14 libclang-common-14-dev)");
        var include = Repository.UapiInclude;
        Prerequisite.Require(include is not null, "linux-source-6.12 (apt-get install linux-source-6.12)");

        var first = Directory.CreateTempSubdirectory("vfio-regen-a");
        var second = Directory.CreateTempSubdirectory("vfio-regen-b");
        try
        {
            Generator.Run(include!, "label", first.FullName);
            Generator.Run(include!, "label", second.FullName);
            foreach (var file in Directory.GetFiles(first.FullName))
            {
                Assert.Equal(File.ReadAllText(file), File.ReadAllText(Path.Combine(second.FullName, Path.GetFileName(file))));
            }
        }
        finally
        {
            first.Delete(recursive: true);
            second.Delete(recursive: true);
        }
    }

    // "//   Headers: linux-source-6.12 6.12.117-1~deb12u1 (make headers_install ARCH=x86)." -> the label
    private static string SourceLabel(string bannerLine) =>
        bannerLine["//   Headers: ".Length..bannerLine.LastIndexOf(" (make headers_install", StringComparison.Ordinal)];

    private static string Line(string[] lines, int index) => index < lines.Length ? lines[index] : "(end of file)";
}
