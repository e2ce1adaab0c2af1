namespace Sdhci.Probe.Commands;

internal sealed record CsdReport(string Raw, string Version, long MaxTransferRateHz, int ReadBlockLength);
