using System.Reflection;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Native.Tests;

/// <summary>Every size, alignment, offset, field size, constant, ioctl number and errno of the generated
/// bindings against what gcc computes from the same headers.</summary>
public sealed class AbiOracleTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_generated_item_matches_what_gcc_computes()
    {
        Prerequisite.Require(Repository.OnPath("gcc"), "gcc (apt-get install gcc)");
        var include = Repository.UapiInclude;
        Prerequisite.Require(include is not null, "linux-source-6.12 (apt-get install linux-source-6.12)");

        var items = NativeLayout.Items().ToList();
        var oracle = GccOracle.Evaluate(items, include!);

        var mismatches = items
            .Where(item => !oracle.TryGetValue(item.Key, out var c) || c != item.CSharpValue)
            .Select(item => $"{item.Key}: C# {item.CSharpValue}, gcc {(oracle.TryGetValue(item.Key, out var c) ? c : "(no line)")}")
            .ToList();

        output.WriteLine($"compared {items.Count} items of {NativeLayout.GeneratedTypes.Count} generated types with gcc ({string.Join(", ", NativeLayout.Headers)})");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {items.Count} items differ from gcc:\n{string.Join("\n", mismatches)}");
        Assert.Equal(items.Count, oracle.Count);
        Assert.True(items.Count > 1000, $"only {items.Count} items: the generated bindings look incomplete");
    }

    [Fact]
    public void The_oracle_catches_a_wrong_value()
    {
        Prerequisite.Require(Repository.OnPath("gcc"), "gcc (apt-get install gcc)");
        var include = Repository.UapiInclude;
        Prerequisite.Require(include is not null, "linux-source-6.12 (apt-get install linux-source-6.12)");

        var wrong = new AbiItem("sizeof struct vfio_irq_set", "sizeof(struct vfio_irq_set)", "24");
        var oracle = GccOracle.Evaluate([wrong], include!);

        Assert.Equal("20", oracle[wrong.Key]);
    }
    [Fact]
    public void Every_hand_written_native_struct_is_held_against_gcc()
    {
        // A struct written by hand in src/Vfio.Native (NativeTypeName, no NativeHeader) that the oracle does
        // not list would have its layout believed, not checked.
        var handWritten = typeof(VfioUapi).Assembly.GetTypes()
            .Where(t => t.IsValueType && !t.IsEnum && t.GetCustomAttribute<NativeTypeNameAttribute>() is not null && t.GetCustomAttribute<NativeHeaderAttribute>() is null && !t.IsNested)
            .Select(t => t.Name).Order(StringComparer.Ordinal);

        Assert.Equal(NativeLayout.HandWrittenTypes.Where(t => t.Type.IsValueType).Select(t => t.Type.Name).Order(StringComparer.Ordinal), handWritten);
    }
}
