using System.Text.Json.Serialization;

namespace Sdhci.Probe.Commands;

/// <summary>Source-generated JSON for <c>status</c> (trim and AOT safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<StatusEntry>))]
internal sealed partial class StatusJson : JsonSerializerContext;
