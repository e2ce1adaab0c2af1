using static Sdhci.Probe.Sdhci.SdhciHost;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <content>The SDMA data phase: one address, and the next one at every buffer boundary.</content>
public sealed partial class SdhciHost<TBus>
{
    private const byte SdmaBoundaryField = 7;

    /// <summary>Whether SDMA takes 64-bit addresses: only in version 4 mode with 64-bit addressing.</summary>
    private bool Sdma64 => Adma2Format == SdhciAdma2Format.Address64V4;

    /// <summary>SDMA set-up: the data staged at the start of the DMA memory, whose address goes to the controller.</summary>
    /// <returns>The SDMA address written.</returns>
    private ulong PrepareSdma(Context context, SdhciDataTransfer data)
    {
        if (!Capabilities.Sdma)
            throw new SdhciException(SdhciError.NotSupported, $"{context}: the controller has no SDMA (Capabilities bit 22).", context.Index, context.Application);
        var dma = data.Dma!;
        var sdmaAddress = dma.DeviceAddress;
        if (!Sdma64)
            CheckBelow4GiB(dma, data.Length, "SDMA");
        StageDmaWrite(data, 0);
        WriteSdmaAddress(sdmaAddress);
        return sdmaAddress;
    }

    /// <summary>The SDMA address goes to 0x00, or in version 4 mode to the ADMA System Address register (spec 4.10, 2.2.1).</summary>
    private void WriteSdmaAddress(ulong address)
    {
        if (Version4Mode)
            WriteAdmaAddress64(address);
        else
            _regs.Write(S.SdmaSystemAddress, (uint)address);
    }

    /// <summary>SDMA: waits for Transfer Complete, handing the controller the next buffer boundary each time it pauses at one.</summary>
    private void RunSdmaDataPhase(Context context, SdhciDataTransfer data, ulong sdmaAddress)
    {
        var resumed = false;
        while (true)
        {
            I got;
            try
            {
                got = WaitFor(context, I.TransferComplete | I.DmaInterrupt, Options.DataTimeout, "Transfer Complete");
            }
            catch (SdhciException e) when (resumed && e.Error == SdhciError.Timeout)
            {
                throw new SdhciException(SdhciError.Timeout,
                    e.Message + $" The transfer had paused at an SDMA buffer boundary and did not resume at 0x{sdmaAddress:x}: QEMU (6.0 on, 7.2 in the rig) " +
                    "ignores the SDMA address written during a transfer (its fix for CVE-2021-3409). Use --mode adma2 there.",
                    context.Index, context.Application, e.InterruptStatus);
            }

            if ((got & I.TransferComplete) != 0)
                break;

            // The controller paused at a buffer boundary: hand it the next one (what sdhci.c does).
            sdmaAddress = (sdmaAddress & ~(ulong)(SdmaBoundary - 1)) + SdmaBoundary;
            WriteSdmaAddress(sdmaAddress);
            resumed = true;
        }

        CopyDmaReadBack(data, 0);
    }
}
