namespace Sdhci.Probe.Sdhci;

/// <summary>Takes the blocks of one read command as they arrive; the span is only valid during the call.</summary>
/// <param name="lba">The first of the blocks.</param>
/// <param name="blocks">Whole 512-byte blocks.</param>
public delegate void SdBlockSink(long lba, ReadOnlySpan<byte> blocks);
