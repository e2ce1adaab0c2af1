namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The data phase of a command: block size and count, where the data comes from or goes, and how
/// it moves. For DMA modes the engine stages the data in <see cref="Dma"/> (descriptor table first
/// for ADMA2, see <see cref="SdhciHost.DmaDataOffset"/>) and copies it to or from <see cref="Buffer"/>.
/// </summary>
/// <example>
/// <code>
/// var scr = new byte[8];
/// host.SendCommand(51, 0, SdResponseType.R1, new SdhciDataTransfer(SdhciTransferDirection.Read, 8, 1, scr));
/// var blocks = new byte[8 * 512];
/// host.SendCommand(18, 0, SdResponseType.R1,
///     new SdhciDataTransfer(SdhciTransferDirection.Read, 512, 8, blocks, SdhciTransferMode.Adma2, dmaMemory));
/// </code>
/// </example>
public sealed class SdhciDataTransfer
{
    /// <summary>Describes a transfer.</summary>
    /// <param name="direction">Read or write.</param>
    /// <param name="blockSize">Bytes per block, 1 to 2048 (a multiple of 4 for PIO, which moves 32-bit words).</param>
    /// <param name="blockCount">Blocks, 1 to 65535.</param>
    /// <param name="buffer">Where read data lands, or where written data comes from; at least <paramref name="blockSize"/> × <paramref name="blockCount"/> bytes.</param>
    /// <param name="mode">PIO, SDMA or ADMA2.</param>
    /// <param name="dma">DMA memory for SDMA and ADMA2; ignored for PIO.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or count is out of range, or the buffer is too small.</exception>
    /// <exception cref="ArgumentException">A DMA mode without DMA memory, or DMA memory too small.</exception>
    public SdhciDataTransfer(SdhciTransferDirection direction, int blockSize, int blockCount, Memory<byte> buffer,
        SdhciTransferMode mode = SdhciTransferMode.Pio, IDmaMemory? dma = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockSize, 2048);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockCount, ushort.MaxValue);
        if (mode == SdhciTransferMode.Pio && blockSize % 4 != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "PIO moves 32-bit words: the block size must be a multiple of 4.");
        var length = (long)blockSize * blockCount;
        if (buffer.Length < length)
            throw new ArgumentOutOfRangeException(nameof(buffer), buffer.Length, $"The buffer holds {buffer.Length} bytes; the transfer moves {length}.");
        if (mode != SdhciTransferMode.Pio)
        {
            if (dma is null)
                throw new ArgumentException($"{mode} needs DMA memory the controller can reach.", nameof(dma));
            var needed = SdhciHost.RequiredDmaLength(mode, (int)length);
            if (dma.Bytes.Length < needed)
                throw new ArgumentException($"{mode} of {length} bytes needs {needed} bytes of DMA memory; it has {dma.Bytes.Length}.", nameof(dma));
        }

        Direction = direction;
        BlockSize = blockSize;
        BlockCount = blockCount;
        Buffer = buffer;
        Mode = mode;
        Dma = mode == SdhciTransferMode.Pio ? null : dma;
    }

    /// <summary>Read or write.</summary>
    public SdhciTransferDirection Direction { get; }

    /// <summary>Bytes per block.</summary>
    public int BlockSize { get; }

    /// <summary>Number of blocks.</summary>
    public int BlockCount { get; }

    /// <summary>Bytes moved in all: <see cref="BlockSize"/> × <see cref="BlockCount"/>.</summary>
    public int Length => BlockSize * BlockCount;

    /// <summary>The program's side of the data.</summary>
    public Memory<byte> Buffer { get; }

    /// <summary>How the data moves.</summary>
    public SdhciTransferMode Mode { get; }

    /// <summary>The DMA memory, null for PIO.</summary>
    public IDmaMemory? Dma { get; }

    /// <summary>Have the controller send CMD12 after a multi-block transfer (Auto CMD12). Default true; ignored for one block.</summary>
    public bool AutoCmd12 { get; init; } = true;
}
