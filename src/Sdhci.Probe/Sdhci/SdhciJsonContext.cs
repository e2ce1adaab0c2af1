using System.Text.Json.Serialization;

namespace Sdhci.Probe.Sdhci;

/// <summary>Source-generated System.Text.Json metadata for the dump document, so <c>--json</c> works trimmed and AOT-compiled.</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SdhciDumpDocument))]
public sealed partial class SdhciJsonContext : JsonSerializerContext;
