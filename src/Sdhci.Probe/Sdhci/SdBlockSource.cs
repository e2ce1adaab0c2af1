namespace Sdhci.Probe.Sdhci;

/// <summary>Fills the blocks of one write command, all of the span, or throws.</summary>
/// <param name="lba">Where the first of the blocks will be written.</param>
/// <param name="blocks">Whole 512-byte blocks to fill.</param>
public delegate void SdBlockSource(long lba, Span<byte> blocks);
