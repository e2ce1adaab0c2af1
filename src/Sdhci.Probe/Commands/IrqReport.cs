namespace Sdhci.Probe.Commands;

/// <summary>What <c>irq</c> measured.</summary>
internal sealed record IrqReport(string Device, int Requested, int Serviced, int Lost, bool Automasked, double P50Microseconds, double P99Microseconds, double P999Microseconds, double MaxMicroseconds);
