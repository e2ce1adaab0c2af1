using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Vfio.Platform;

namespace Sdhci.Probe.Commands;

/// <summary>Options more than one command takes, and the error reporting they share.</summary>
internal static class CommonOptions
{
    public static Argument<string> Device() => new("device") { Description = "The controller's sysfs name: ff170000.mmc (platform) or 0000:00:01.0 (PCI). 'sdhci-probe list' shows them." };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON for machines instead of text." };

    public static Option<bool> NoIommu() => new("--noiommu") { Description = "Accept a no-IOMMU group: the device is not isolated and can DMA anywhere. Unsafe; needed on SoCs whose SMMU the kernel does not drive." };

    public static Option<bool> BindForCommand() => new("--bind") { Description = "Bind the controller to VFIO for this command only, and give it back to its driver after." };

    public static Option<string> SysfsRoot() => new("--sysfs") { Description = "Where sysfs is mounted (for tests).", DefaultValueFactory = _ => "/sys", Hidden = true };

    /// <summary>Runs a command body; a VFIO or system-call failure becomes a one-line message and exit 1.</summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (VfioException e)
        {
            Console.Error.WriteLine($"sdhci-probe: {e.Message}");
            return ExitCodes.Failed;
        }
        catch (Vfio.Native.SystemCallException e)
        {
            Console.Error.WriteLine($"sdhci-probe: {e.Message}");
            return ExitCodes.Failed;
        }
    }

    public static void WriteJson<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        Console.WriteLine(JsonSerializer.Serialize(value, type));
}

/// <summary>Source-generated JSON for the tool's own outputs (trim and AOT safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<ControllerInfo>))]
[JsonSerializable(typeof(BindResult))]
[JsonSerializable(typeof(UnbindResult))]
[JsonSerializable(typeof(IrqReport))]
[JsonSerializable(typeof(CardReport))]
[JsonSerializable(typeof(TransferReport))]
internal sealed partial class ProbeJson : JsonSerializerContext;
