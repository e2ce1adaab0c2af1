namespace Sdhci.Probe.Commands;

/// <summary>What <c>unbind</c> left: the driver the device is bound to now (null: none), and what was left as it was.</summary>
internal sealed record UnbindResult(string Device, string? Driver, bool Restored, IReadOnlyList<string> Notes);
