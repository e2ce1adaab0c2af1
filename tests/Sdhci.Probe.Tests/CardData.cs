namespace Sdhci.Probe.Tests;

/// <summary>The data phase a command starts: the card serves or takes blocks by index.</summary>
internal sealed record CardData(bool Read, int? RequiredBlockSize, Func<int, int, byte[]>? ReadBlock, Action<int, byte[]>? WriteBlock);
