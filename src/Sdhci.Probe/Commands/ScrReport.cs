namespace Sdhci.Probe.Commands;

internal sealed record ScrReport(string Raw, string SpecVersion, bool Bus1Bit, bool Bus4Bit, bool Cmd23);
