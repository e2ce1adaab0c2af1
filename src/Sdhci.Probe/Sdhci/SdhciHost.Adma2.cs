using static Sdhci.Probe.Sdhci.SdhciHost;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <content>The ADMA2 data phase and its descriptor formats (32-bit, 64-bit v3, 64-bit v4); the table itself is written by <see cref="SdhciAdma2Table"/>.</content>
public sealed partial class SdhciHost<TBus>
{
    /// <summary>The size of one descriptor of <see cref="Adma2Format"/>: 8, 12 or 16 bytes.</summary>
    public int Adma2DescriptorLength => DescriptorLength(Adma2Format);

    /// <summary>ADMA2 set-up: the descriptor table at the start of the DMA memory, the data after it, the table's address to the controller.</summary>
    /// <returns>The DMA Select value (Host Control 1 bits 4:3) for <see cref="Adma2Format"/>.</returns>
    private byte PrepareAdma2(Context context, SdhciDataTransfer data)
    {
        if (!Capabilities.Adma2)
            throw new SdhciException(SdhciError.NotSupported, $"{context}: the controller has no ADMA2 (Capabilities bit 19).", context.Index, context.Application);
        var dma = data.Dma!;
        var format = Adma2Format;
        var offset = DmaDataOffset(SdhciTransferMode.Adma2, data.Length, Adma2DescriptorLength);
        if (dma.Bytes.Length < offset + data.Length)
        {
            throw new ArgumentException(
                $"ADMA2 of {data.Length} bytes with {Describe(format)} descriptors needs {offset + data.Length} bytes of DMA memory; it has {dma.Bytes.Length}.", nameof(data));
        }

        // Spec 4.10, 1.13.4: the descriptor table starts on a 4-byte boundary for 32-bit
        // addressing and on an 8-byte boundary for 64-bit; the data follows on a page boundary.
        var alignment = format == SdhciAdma2Format.Address32 ? 4UL : 8UL;
        if (format == SdhciAdma2Format.Address32)
            CheckBelow4GiB(dma, offset + data.Length, "32-bit ADMA2");
        if ((dma.DeviceAddress & (alignment - 1)) != 0)
            throw new ArgumentException($"{Describe(format)} ADMA2 needs {alignment}-byte aligned addresses; the DMA memory is at 0x{dma.DeviceAddress:x}.", nameof(data));
        SdhciAdma2Table.Write(dma.Bytes, dma.DeviceAddress + (ulong)offset, data.Length, format);
        StageDmaWrite(data, offset);
        if (format == SdhciAdma2Format.Address32)
        {
            _regs.Write(S.AdmaSystemAddress, (uint)dma.DeviceAddress);   // 0x5C only exists with 64-bit addressing
        }
        else
        {
            WriteAdmaAddress64(dma.DeviceAddress);                   // 0x58, then the upper half at 0x5C
        }

        // DMA Select (Host Control 1 bits 4:3): 0b11 is 64-bit ADMA2 in version 3 mode; in
        // version 4 mode 0b10 is ADMA2 and Host Control 2 bit 13 gives the address width.
        return format == SdhciAdma2Format.Address64 ? (byte)3 : (byte)2;
    }

    /// <summary>ADMA2: waits for Transfer Complete; the table ends the transfer by itself (no descriptor asks for a DMA Interrupt).</summary>
    private void RunAdma2DataPhase(Context context, SdhciDataTransfer data)
    {
        while ((WaitFor(context, I.TransferComplete | I.DmaInterrupt, Options.DataTimeout, "Transfer Complete") & I.TransferComplete) == 0)
        {
            // A DMA Interrupt alone is taken and the wait goes on, as before the modes were split.
        }

        CopyDmaReadBack(data, DmaDataOffset(SdhciTransferMode.Adma2, data.Length, Adma2DescriptorLength));
    }
}
