namespace Sdhci.Probe.Commands;

internal sealed record CidReport(string Raw, string Manufacturer, string Oem, string Product, string Revision, string Serial, string Made);
