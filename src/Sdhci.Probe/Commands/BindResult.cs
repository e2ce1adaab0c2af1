namespace Sdhci.Probe.Commands;

/// <summary>What <c>bind</c> did.</summary>
internal sealed record BindResult(string Device, string? OriginalDriver, string Driver, string GroupPath, bool NoIommu);
