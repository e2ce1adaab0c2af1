using System.Text.Json.Serialization;

namespace Vfio.Check;

/// <summary>Source-generated JSON for the report (trim and AOT safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CheckReport))]
internal sealed partial class CheckJson : JsonSerializerContext;
