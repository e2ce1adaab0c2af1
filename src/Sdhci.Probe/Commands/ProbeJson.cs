using System.Text.Json.Serialization;

namespace Sdhci.Probe.Commands;

/// <summary>Source-generated JSON for the tool's own outputs (trim and AOT safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<ControllerInfo>))]
[JsonSerializable(typeof(BindResult))]
[JsonSerializable(typeof(UnbindResult))]
[JsonSerializable(typeof(IrqReport))]
[JsonSerializable(typeof(CardReport))]
[JsonSerializable(typeof(TransferReport))]
internal sealed partial class ProbeJson : JsonSerializerContext;
