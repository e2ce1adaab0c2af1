namespace Sdhci.Probe.Commands;

/// <summary>How long a transfer took (without the bring-up) and, for DMA, the device address of its DMA memory.</summary>
internal readonly record struct TransferTiming(TimeSpan Elapsed, ulong? DmaAddress);
