using static Sdhci.Probe.Sdhci.SdhciHost;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <content>What every data phase shares: the DMA memory layout, the registers set before the command, and the choice of mode.</content>
public sealed partial class SdhciHost<TBus>
{
    /// <summary><see cref="RequiredDmaLength(SdhciTransferMode, int, int)"/> with this host's descriptor format.</summary>
    /// <param name="mode">The transfer mode.</param>
    /// <param name="length">Bytes to move.</param>
    /// <returns>Bytes of DMA memory; 0 for PIO.</returns>
    public int RequiredDmaLengthFor(SdhciTransferMode mode, int length) => RequiredDmaLength(mode, length, Adma2DescriptorLength);

    /// <summary>
    /// Programs what every data phase needs before the command: the mode's own set-up (SDMA address, ADMA2
    /// table), DMA Select, Block Size (with the SDMA buffer boundary) and Block Count.
    /// </summary>
    /// <returns>The SDMA address (0 in the other modes), where an SDMA transfer resumes from.</returns>
    private ulong PrepareData(Context context, SdhciDataTransfer data)
    {
        ulong sdmaAddress = 0;
        byte dmaSelect = 0;
        switch (data.Mode)
        {
            case SdhciTransferMode.Sdma:
                sdmaAddress = PrepareSdma(context, data);
                break;
            case SdhciTransferMode.Adma2:
                dmaSelect = PrepareAdma2(context, data);
                break;
        }

        _regs.Modify(S.HostControl1, S.DmaSelect, dmaSelect);
        _regs.Write(S.BlockSize, (ushort)(S.TransferBlockSize.With(0u, (ushort)data.BlockSize) | S.SdmaBufferBoundary.InPlace(SdmaBoundaryField)));
        _regs.Write(S.BlockCount, (ushort)data.BlockCount);
        return sdmaAddress;
    }

    /// <summary>After Command Complete: moves the data in the transfer's mode and waits for Transfer Complete.</summary>
    private void RunDataPhase(Context context, SdhciDataTransfer data, ulong sdmaAddress)
    {
        switch (data.Mode)
        {
            case SdhciTransferMode.Pio:
                RunPioDataPhase(context, data);
                break;
            case SdhciTransferMode.Sdma:
                RunSdmaDataPhase(context, data, sdmaAddress);
                break;
            default:
                RunAdma2DataPhase(context, data);
                break;
        }
    }

    /// <summary>A DMA write sends what is in the DMA memory: the caller's data goes there, at <paramref name="offset"/>, before the command.</summary>
    private static void StageDmaWrite(SdhciDataTransfer data, int offset)
    {
        if (data.Direction == SdhciTransferDirection.Write)
            data.Buffer.Span[..data.Length].CopyTo(data.Dma!.Bytes[offset..]);
    }

    /// <summary>A DMA read lands in the DMA memory: the caller's buffer gets it once Transfer Complete says it is all there.</summary>
    private static void CopyDmaReadBack(SdhciDataTransfer data, int offset)
    {
        if (data.Direction == SdhciTransferDirection.Read)
            data.Dma!.Bytes.Slice(offset, data.Length).CopyTo(data.Buffer.Span);
    }

    private void CheckBelow4GiB(IDmaMemory dma, int length, string engine)
    {
        if (dma.DeviceAddress + (ulong)length > 1UL << 32)
        {
            var why = engine == "SDMA" ? "SDMA takes 32-bit addresses (64-bit SDMA needs version 4 mode)"
                : !Options.Allow64BitDma ? "64-bit ADMA2 is turned off (SdhciHostOptions.Allow64BitDma), so ADMA2 takes 32-bit addresses"
                : Version4Mode ? "in version 4 mode this controller has no 64-bit addressing (Capabilities bit 27 is clear), so ADMA2 takes 32-bit addresses"
                : "this controller has no 64-bit system bus (Capabilities bit 28 is clear), so ADMA2 takes 32-bit addresses";
            var fix = engine == "SDMA" && Adma2Format != SdhciAdma2Format.Address32
                ? "Use ADMA2, which reaches it with 64-bit addresses on this controller, or map the memory at an IOVA below 4 GiB"
                : "Map it at an IOVA below 4 GiB (or, without an IOMMU, use memory below 4 GiB)";
            throw new ArgumentException($"The DMA memory at 0x{dma.DeviceAddress:x} ends above 4 GiB: {why}. {fix}.", nameof(dma));
        }
    }
}
