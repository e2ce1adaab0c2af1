namespace Sdhci.Probe.Sdhci;

/// <summary>
/// What the tool's commands ask of an <see cref="SdCard{TBus}"/> without knowing its bus: bring-up, block reads and
/// writes through a sink or source, and the write-protect check. One call per command; the register accesses stay
/// inside the driver, compiled for its bus.
/// </summary>
public interface ISdCard
{
    /// <summary>The command engine.</summary>
    ISdhciHost Host { get; }

    /// <summary>Policies and timeouts.</summary>
    SdCardOptions Options { get; }

    /// <summary>What <see cref="Initialize"/> found; null before.</summary>
    SdCardInfo? Info { get; }

    /// <summary>Brings the card to the transfer state.</summary>
    /// <returns>What the card told about itself.</returns>
    SdCardInfo Initialize();

    /// <summary>Reads <paramref name="count"/> blocks from <paramref name="lba"/> into <paramref name="sink"/>.</summary>
    /// <param name="lba">First block.</param>
    /// <param name="count">Blocks.</param>
    /// <param name="sink">Where each run of blocks goes.</param>
    /// <param name="mode">PIO, SDMA or ADMA2.</param>
    /// <param name="dma">DMA memory for SDMA and ADMA2.</param>
    /// <param name="progress">Blocks done so far.</param>
    void ReadBlocks(long lba, int count, SdBlockSink sink, SdhciTransferMode mode = SdhciTransferMode.Pio, IDmaMemory? dma = null, IProgress<int>? progress = null);

    /// <summary>Writes <paramref name="count"/> blocks from <paramref name="source"/> at <paramref name="lba"/>.</summary>
    /// <param name="lba">First block.</param>
    /// <param name="count">Blocks.</param>
    /// <param name="source">Where each run of blocks comes from.</param>
    /// <param name="mode">PIO, SDMA or ADMA2.</param>
    /// <param name="dma">DMA memory for SDMA and ADMA2.</param>
    /// <param name="progress">Blocks done so far.</param>
    void WriteBlocks(long lba, int count, SdBlockSource source, SdhciTransferMode mode = SdhciTransferMode.Pio, IDmaMemory? dma = null, IProgress<int>? progress = null);

    /// <summary>Throws when the card or its slot is write-protected.</summary>
    void ThrowIfWriteProtected();
}
