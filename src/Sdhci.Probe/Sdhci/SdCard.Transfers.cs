using System.Diagnostics;
using System.Globalization;
using static Sdhci.Probe.Sdhci.SdCard;

namespace Sdhci.Probe.Sdhci;

/// <content>Block reads and writes: the command loop, a command's worth of blocks at a time, in PIO, SDMA or ADMA2.</content>
public sealed partial class SdCard<TBus>
{
    /// <summary>Reads <paramref name="count"/> blocks from <paramref name="lba"/>.</summary>
    /// <param name="lba">The first block, counted in 512-byte blocks whatever the card's addressing.</param>
    /// <param name="count">Blocks to read.</param>
    /// <param name="mode">PIO, SDMA or ADMA2.</param>
    /// <param name="dma">DMA memory for SDMA and ADMA2; long reads are split to fit it.</param>
    /// <param name="progress">Told the number of blocks read so far after every command.</param>
    /// <returns>The blocks' bytes.</returns>
    /// <exception cref="InvalidOperationException">The card is not initialized.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is beyond the card.</exception>
    /// <exception cref="SdhciException">A command or transfer failed.</exception>
    public byte[] ReadBlocks(long lba, int count, SdhciTransferMode mode = SdhciTransferMode.Pio, IDmaMemory? dma = null, IProgress<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var bytes = new byte[checked(count * BlockSize)];
        Transfer(SdhciTransferDirection.Read, lba, bytes, mode, dma, progress);
        return bytes;
    }

    /// <summary>Reads as many blocks as <paramref name="destination"/> holds (its length a multiple of 512) from <paramref name="lba"/>.</summary>
    /// <param name="lba">The first block.</param>
    /// <param name="destination">Where the blocks go.</param>
    /// <param name="mode">PIO, SDMA or ADMA2.</param>
    /// <param name="dma">DMA memory for SDMA and ADMA2.</param>
    /// <param name="progress">Told the number of blocks read so far after every command.</param>
    /// <exception cref="InvalidOperationException">The card is not initialized.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is beyond the card, or the length is not a multiple of 512.</exception>
    /// <exception cref="SdhciException">A command or transfer failed.</exception>
    public void ReadBlocks(long lba, Memory<byte> destination, SdhciTransferMode mode = SdhciTransferMode.Pio, IDmaMemory? dma = null, IProgress<int>? progress = null) =>
        Transfer(SdhciTransferDirection.Read, lba, destination, mode, dma, progress);

    /// <summary>
    /// Reads <paramref name="count"/> blocks from <paramref name="lba"/>, handing each command's blocks to
    /// <paramref name="sink"/> as they arrive. One buffer of one command's blocks is reused throughout, so
    /// a read of a whole card holds no more than <see cref="SdCardOptions.MaxBlocksPerCommand"/> blocks
    /// (or the DMA memory's worth) at a time.
    /// </summary>
    /// <param name="lba">The first block.</param>
    /// <param name="count">Blocks to read.</param>
    /// <param name="sink">Takes each command's blocks, in order.</param>
    /// <param name="mode">PIO, SDMA or ADMA2.</param>
    /// <param name="dma">DMA memory for SDMA and ADMA2; each command fills it once.</param>
    /// <param name="progress">Told the number of blocks read so far after every command (and after the sink took them).</param>
    /// <exception cref="InvalidOperationException">The card is not initialized.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is beyond the card.</exception>
    /// <exception cref="SdhciException">A command or transfer failed.</exception>
    public void ReadBlocks(long lba, int count, SdBlockSink sink, SdhciTransferMode mode = SdhciTransferMode.Pio, IDmaMemory? dma = null, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        byte[]? chunk = null;
        // The first command is the longest (later ones only get shorter), so it sizes the one buffer.
        Transfer(SdhciTransferDirection.Read, lba, count, mode, dma, progress,
            (done, blocks) => (chunk ??= new byte[blocks * BlockSize]).AsMemory(0, blocks * BlockSize),
            (done, blocks) => sink(lba + done, blocks.Span));
    }

    /// <summary>
    /// Writes whole blocks from <paramref name="source"/> at <paramref name="lba"/>, then waits for the
    /// card to finish programming. Refused unless the host was created with
    /// <see cref="SdhciHostOptions.AllowWrite"/>.
    /// </summary>
    /// <param name="lba">The first block.</param>
    /// <param name="source">The data, a multiple of 512 bytes.</param>
    /// <param name="mode">PIO, SDMA or ADMA2.</param>
    /// <param name="dma">DMA memory for SDMA and ADMA2.</param>
    /// <param name="progress">Told the number of blocks written so far after every command.</param>
    /// <exception cref="InvalidOperationException">Writing is not allowed, or the card is not initialized.</exception>
    /// <exception cref="SdhciException">The card is write-protected (<see cref="SdhciError.WriteProtected"/>, before any command), or a command or transfer failed.</exception>
    public void WriteBlocks(long lba, ReadOnlyMemory<byte> source, SdhciTransferMode mode = SdhciTransferMode.Pio, IDmaMemory? dma = null, IProgress<int>? progress = null)
    {
        RequireWriteAllowed();

        // The engine only reads the buffer of a write transfer.
        Transfer(SdhciTransferDirection.Write, lba, System.Runtime.InteropServices.MemoryMarshal.AsMemory(source), mode, dma, progress);
    }

    /// <summary>
    /// Writes <paramref name="count"/> blocks at <paramref name="lba"/>, asking <paramref name="source"/>
    /// for each command's blocks just before the command; one command's worth of memory is reused
    /// throughout. Refused, as <see cref="WriteBlocks(long, ReadOnlyMemory{byte}, SdhciTransferMode, IDmaMemory?, IProgress{int}?)"/>, without
    /// <see cref="SdhciHostOptions.AllowWrite"/> or on a write-protected card.
    /// </summary>
    /// <param name="lba">The first block.</param>
    /// <param name="count">Blocks to write.</param>
    /// <param name="source">Fills each command's blocks, in order.</param>
    /// <param name="mode">PIO, SDMA or ADMA2.</param>
    /// <param name="dma">DMA memory for SDMA and ADMA2.</param>
    /// <param name="progress">Told the number of blocks written so far after every command.</param>
    /// <exception cref="InvalidOperationException">Writing is not allowed, or the card is not initialized.</exception>
    /// <exception cref="SdhciException">The card is write-protected (<see cref="SdhciError.WriteProtected"/>), or a command or transfer failed.</exception>
    public void WriteBlocks(long lba, int count, SdBlockSource source, SdhciTransferMode mode = SdhciTransferMode.Pio, IDmaMemory? dma = null, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        RequireWriteAllowed();

        byte[]? chunk = null;
        Transfer(SdhciTransferDirection.Write, lba, count, mode, dma, progress, (done, blocks) =>
        {
            var memory = (chunk ??= new byte[blocks * BlockSize]).AsMemory(0, blocks * BlockSize);
            source(lba + done, memory.Span);
            return memory;
        }, arrived: null);
    }

    private void Transfer(SdhciTransferDirection direction, long lba, Memory<byte> memory, SdhciTransferMode mode, IDmaMemory? dma, IProgress<int>? progress)
    {
        if (memory.Length == 0 || memory.Length % BlockSize != 0)
            throw new ArgumentOutOfRangeException(nameof(memory), memory.Length, "Transfers move whole 512-byte blocks.");
        Transfer(direction, lba, memory.Length / BlockSize, mode, dma, progress,
            (done, blocks) => memory.Slice(done * BlockSize, blocks * BlockSize), arrived: null);
    }

    /// <summary>The command loop: <paramref name="buffer"/> gives the memory of each command (filled, for a write);
    /// <paramref name="arrived"/> is handed what a read command brought, before progress is reported.</summary>
    private void Transfer(SdhciTransferDirection direction, long lba, int count, SdhciTransferMode mode, IDmaMemory? dma, IProgress<int>? progress,
        Func<int, int, Memory<byte>> buffer, Action<int, Memory<byte>>? arrived)
    {
        var info = RequireInfo();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegative(lba);
        // Subtracting keeps a huge lba from wrapping around the comparison.
        if (lba > info.BlockCount - count)
        {
            throw new ArgumentOutOfRangeException(nameof(lba), lba,
                string.Create(CultureInfo.InvariantCulture, $"Blocks {lba} to {lba + count - 1} lie beyond the card's {info.BlockCount} blocks."));
        }

        if (direction == SdhciTransferDirection.Write)
            ThrowIfWriteProtected();

        var perCommand = BlocksPerCommand(mode, dma);
        var read = direction == SdhciTransferDirection.Read;
        var done = 0;
        while (done < count)
        {
            var blocks = Math.Min(perCommand, count - done);
            var index = read ? (blocks == 1 ? 17 : 18) : (blocks == 1 ? 24 : 25);
            var address = info.BlockAddressing ? checked((uint)(lba + done)) : checked((uint)((lba + done) * BlockSize));
            var preDefined = blocks > 1 && info.BlockCountMode == SdBlockCountMode.Cmd23;
            var memory = buffer(done, blocks);
            var data = new SdhciDataTransfer(direction, BlockSize, blocks, memory, mode, dma)
            {
                AutoCmd12 = !preDefined,
            };
            for (var retries = 0; ; retries++)
            {
                try
                {
                    if (preDefined)
                        SetBlockCount(info, blocks);
                    CheckStatus(index, false, Host.SendCommand(index, address, SdResponseType.R1, data).Value);
                    break;
                }
                catch (SdhciException e) when (e.Error is not (SdhciError.ControllerNotResponding or SdhciError.NoCard or SdhciError.CardRemoved
                                                   or SdhciError.ResetTimeout or SdhciError.LineBusy or SdhciError.NotSupported))
                {
                    // The engine has reset the CMD and DAT lines (so its DMA has stopped); now the card's side.
                    var (state, text) = RecoverCard(info.Rca, read);
                    var retryable = Retryable(e.Error);
                    if (!retryable || retries >= Math.Max(0, Options.Retries))
                    {
                        var note = retryable
                            ? string.Create(CultureInfo.InvariantCulture, $"Card state after recovery: {text}. {retries} {(retries == 1 ? "retry" : "retries")} made, each after a CMD/DAT line reset and CMD13; giving up.")
                            : $"Card state after recovery: {text}. Not retried: {WhyNotRetried(e.Error)}.";
                        throw e.WithRecovery(note, state, retries);
                    }

                    RetriesMade++;
                }
            }

            if (!read)
                WaitUntilProgrammed(info.Rca);
            else
                arrived?.Invoke(done, memory);
            done += blocks;
            progress?.Report(done);
        }
    }

    /// <summary>CMD23 before a multi-block command: the card will stop by itself after <paramref name="blocks"/> blocks.</summary>
    private void SetBlockCount(SdCardInfo info, int blocks)
    {
        uint status;
        try
        {
            status = Host.SendCommand(23, (uint)blocks, SdResponseType.R1).Value;
        }
        catch (SdhciException e) when (e.Error == SdhciError.CommandTimeout && !info.Scr.SupportsCmd23)
        {
            // A card stays silent to an illegal command and reports ILLEGAL_COMMAND in its next R1:
            // CMD13 takes that report, so the next data command does not carry a stale error.
            TakeStaleStatus(info.Rca);

            throw new SdhciException(SdhciError.NotSupported,
                $"CMD23 (SET_BLOCK_COUNT): the card did not answer, and its SCR ({info.Scr.RawHex}, physical layer {info.Scr.SpecVersion}) " +
                "does not list CMD23. End multi-block commands with auto-CMD12 instead (sdhci-probe --block-count cmd12, or auto).", 23,
                interruptStatus: e.InterruptStatus);
        }

        CheckStatus(23, false, status);
    }

    private int BlocksPerCommand(SdhciTransferMode mode, IDmaMemory? dma)
    {
        var limit = Math.Clamp(Options.MaxBlocksPerCommand, 1, ushort.MaxValue);
        if (mode == SdhciTransferMode.Pio)
            return limit;
        if (dma is null)
            throw new ArgumentException($"{mode} needs DMA memory the controller can reach.", nameof(dma));
        var available = dma.Bytes.Length;
        var blocks = Math.Min(limit, available / BlockSize);
        while (blocks > 0 && Host.RequiredDmaLengthFor(mode, blocks * BlockSize) > available)
            blocks--;
        if (blocks == 0)
        {
            throw new ArgumentException(
                $"{available} bytes of DMA memory cannot hold one block in {mode} (it needs {Host.RequiredDmaLengthFor(mode, BlockSize)}).", nameof(dma));
        }

        return blocks;
    }

    private void WaitUntilProgrammed(ushort rca)
    {
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            var status = SendStatus(rca);
            CheckStatus(13, false, status);
            if (((SdCardStatus)status).HasFlag(SdCardStatus.ReadyForData) && SdCardStatusInfo.State(status) == SdCardState.Transfer)
                return;
            if (Stopwatch.GetElapsedTime(start) > Options.ProgrammingTimeout)
            {
                throw new SdhciException(SdhciError.Timeout,
                    $"CMD13 (SEND_STATUS): the card is still {SdCardStatusInfo.State(status)} {SdhciHost.Format(Options.ProgrammingTimeout)} after a write (status 0x{status:x8}).",
                    13) { CardStatus = status };
            }

            Thread.Yield();
        }
    }

    /// <summary>The host's opt-in, checked before the card is asked for anything.</summary>
    /// <exception cref="InvalidOperationException">The host was created without <see cref="SdhciHostOptions.AllowWrite"/>.</exception>
    private void RequireWriteAllowed()
    {
        if (!Host.Options.AllowWrite)
            throw new InvalidOperationException("Writing the card is disabled. Writes need an explicit opt-in (SdhciHostOptions.AllowWrite, sdhci-probe --allow-write).");
    }
}
