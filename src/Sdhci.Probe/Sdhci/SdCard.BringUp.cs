using System.Diagnostics;
using static Sdhci.Probe.Sdhci.SdCard;

namespace Sdhci.Probe.Sdhci;

/// <content>The identification sequence (<see cref="Initialize"/>): CMD0, CMD8, ACMD41 (asking for 1.8 V; the switch itself is in SdCard.BusSpeed.cs), CMD2, CMD3, CMD9, CMD7, ACMD51, ACMD6; CMD1 to tell an MMC apart.</content>
public sealed partial class SdCard<TBus>
{
    private const uint CheckPattern = 0x1AA;           // CMD8: VHS 2.7-3.6 V (0x1) and pattern 0xAA
    private const uint OcrBusy = 0x8000_0000;          // set when power-up is done
    private const uint OcrCcs = 0x4000_0000;           // card capacity status (ACMD41 answer) / HCS (ACMD41 argument)
    private const uint OcrVoltageWindow = 0x00FF_FF80;
    private const uint OcrS18 = 0x0100_0000;           // S18R in the ACMD41 argument, S18A in its answer (Physical Layer 3.01, 4.2.4.1)

    /// <summary>Brings the controller up and the card to the transfer state; see the class remarks for the sequence.</summary>
    /// <returns>The card's registers, address, bus width and clock.</returns>
    /// <exception cref="SdhciException">No card, a failed command, a card that stays busy or answers wrongly; an MMC or eMMC
    /// (<see cref="SdhciError.NotAnSdCard"/>).</exception>
    /// <remarks>
    /// Four stages, each its own method, so that another card family can take the first, third and fourth
    /// (see <see cref="IdentifyMmc"/>): <see cref="Identify"/> (CMD0, CMD8, ACMD41, the 1.8 V switch: SD only),
    /// <see cref="AssignAddress"/> (CMD2, CMD3, CMD9, CMD7, CMD16: the same commands for MMC, but there the host
    /// gives the RCA), <see cref="ConfigureSdBus"/> (ACMD51, ACMD6: SD only) and <see cref="SetBusSpeed"/> (CMD6 SWITCH_FUNC: SD only).
    /// </remarks>
    public SdCardInfo Initialize()
    {
        Info = null;
        var identity = Identify();
        var (cid, rca, csd) = AssignAddress(identity.Type);
        var scr = ConfigureSdBus(rca);
        var (speed, reason, switchStatus, clock) = SetBusSpeed(rca, csd, scr, identity.Signalling18);

        // An explicit Cmd23 is tried even when the SCR does not list it (QEMU's card takes CMD23 from
        // physical layer 3.01 on but never lists it); a card that refuses it fails the first multi-block command.
        var blockCountMode = Options.BlockCountMode == SdBlockCountMode.Auto
            ? scr.SupportsCmd23 ? SdBlockCountMode.Cmd23 : SdBlockCountMode.AutoCmd12
            : Options.BlockCountMode;

        Info = new SdCardInfo(identity.Type, identity.Ocr, rca, cid, csd, scr, Host.BusWidth, clock)
        {
            BlockCountMode = blockCountMode,
            BusSpeed = speed,
            BusSpeedReason = reason,
            UhsNote = SdBusSpeeds.IsUhs(speed) ? null : identity.UhsNote,
            SwitchStatus = switchStatus,
        };
        return Info;
    }

    /// <summary>What identification found: the capacity type, the ready OCR, whether the card now signals at 1.8 V, and why UHS-I was not reached.</summary>
    private readonly record struct SdIdentity(SdCardType Type, uint Ocr, bool Signalling18, string? UhsNote);

    /// <summary>
    /// The controller at 400 kHz, then the SD identification (Physical Layer 3.01, 4.2.3 and Figure 4-6): CMD0, CMD8
    /// (its echo checked), an ACMD41 inquiry for the card's voltage window, ACMD41 with HCS and S18R until ready, and
    /// the 1.8 V switch when the card grants S18A (a failed switch power-cycles the card and starts again without S18R).
    /// A device that answers neither CMD8 nor CMD55/ACMD41 may be an MMC: <see cref="IdentifyMmc"/> asks.
    /// </summary>
    private SdIdentity Identify()
    {
        // UHS-I is asked for (S18R) only when the options allow it and the host has 1.8 V and an SDR mode.
        var tryUhs = SdBusSpeeds.IsUhs(Options.MaxBusSpeed) && Host.SupportsUhs;
        string? uhsNote = null;
        while (true)
        {
            Host.Initialize();
            if (!Host.CardPresent)
            {
                throw new SdhciException(SdhciError.NoCard,
                    "No card: Present State (0x24) says no card is inserted. Insert a card (QEMU: -drive if=sd,file=IMAGE,format=raw, or -device sd-card,drive=...).");
            }

            Host.SendCommand(0, 0, SdResponseType.None);
            var version2 = SendInterfaceCondition();

            // An inquiry first (argument 0) to learn the card's voltage window, as Linux does.
            uint cardWindow;
            try
            {
                cardWindow = Host.SendApplicationCommand(0, 41, 0, SdResponseType.R3).Value & OcrVoltageWindow;
            }
            catch (SdhciException e) when (!version2 && (e.Error == SdhciError.CommandTimeout || (e.Error == SdhciError.UnusableCard && e.CommandIndex == 55)))
            {
                throw IdentifyMmc(e);
            }

            var window = cardWindow & Host.HostOcrMask;
            if (window == 0)
            {
                throw new SdhciException(SdhciError.UnusableCard,
                    $"ACMD41: the card's voltage window 0x{cardWindow:x8} and the host's 0x{Host.HostOcrMask:x8} ({Host.Voltage}) do not overlap.", 41, true);
            }

            // Physical Layer 3.01, 4.2.4.1 (Figure 4-6): ACMD41 with HCS and S18R; the ready answer's S18A says
            // whether the card will switch its signalling to 1.8 V.
            var askUhs = tryUhs && version2;
            var ocr = WaitUntilReady(window | (version2 ? OcrCcs : 0) | (askUhs ? OcrS18 : 0));
            var type = !version2 ? SdCardType.StandardCapacityV1
                : (ocr & OcrCcs) != 0 ? SdCardType.HighCapacity
                : SdCardType.StandardCapacity;
            if (!askUhs)
                return new SdIdentity(type, ocr, false, uhsNote);
            if ((ocr & OcrS18) == 0)
                return new SdIdentity(type, ocr, false, "the card did not accept 1.8 V signalling (ACMD41 S18A clear), so no UHS-I");
            if (SwitchVoltage() is not { } failure)
                return new SdIdentity(type, ocr, true, null);

            // A failed switch leaves the card's signalling unknown: power-cycle it and identify it again at
            // 3.3 V without S18R (Physical Layer 4.2.4.1; Linux's mmc_sd_init_card does the same).
            uhsNote = $"the 1.8 V signal voltage switch failed ({failure}); the card was power-cycled and runs at 3.3 V";
            Host.SetSignalling18V(false);
            Host.PowerOff();
            Thread.Sleep(Options.PowerCycleDelay);
            tryUhs = false;
        }
    }

    /// <summary>
    /// The seam for MMC and eMMC. Linux's mmc_rescan tries SDIO (CMD5), then SD (ACMD41), then MMC (CMD1, SEND_OP_COND)
    /// on a device that ignored the others; an eMMC answers neither CMD8 (SEND_EXT_CSD there, a transfer-state
    /// command) nor ACMD41. So after an ACMD41 inquiry that went unanswered (or whose CMD55 came back without
    /// APP_CMD) on a device that did not answer CMD8 either, this sends the CMD1 inquiry (argument 0, R3: the device's OCR; JEDEC JESD84-B51, operating voltage validation) and, if it is
    /// answered, reports an MMC: bringing one up is not implemented. What it would need, in the places named in
    /// <see cref="Initialize"/>: CMD1 with the voltage window and sector mode (OCR bits 30:29 = 0b10) until bit 31 is set,
    /// instead of ACMD41; CMD3 with an RCA the host chooses (R1, not R6); no ACMD51 or SCR, but CMD8 SEND_EXT_CSD (a
    /// 512-byte read) for the capacity (SEC_COUNT), the card types and the partitions; CMD6 SWITCH writes to EXT_CSD
    /// bytes (BUS_WIDTH 183 for 4 or 8 bits, HS_TIMING 185 for High Speed, HS200 with CMD21 tuning) instead of SD's
    /// CMD6 SWITCH_FUNC and ACMD6; and an 8-bit bus on hosts with Capabilities bit 18. See the README, "eMMC".
    /// </summary>
    /// <param name="sdFailure">The unanswered ACMD41 inquiry, reported when CMD1 goes unanswered too.</param>
    /// <returns>The exception to throw.</returns>
    private SdhciException IdentifyMmc(SdhciException sdFailure)
    {
        uint ocr;
        try
        {
            ocr = Host.SendCommand(1, 0, SdResponseType.R3).Value;
        }
        catch (SdhciException e) when (e.Error == SdhciError.CommandTimeout)
        {
            return sdFailure;
        }

        return new SdhciException(SdhciError.NotAnSdCard,
            $"CMD1 (SEND_OP_COND): not an SD card: the device ignored CMD8 and ACMD41 but answered CMD1 with OCR 0x{ocr:x8}, as an MMC or eMMC does. " +
            "sdhci-probe brings up SD cards only; the kernel's mmc driver can use this device (see src/Sdhci.Probe/README.md, \"eMMC\").", 1)
        { CardStatus = ocr };
    }

    /// <summary>
    /// From the ready state to the transfer state (Physical Layer 3.01, 4.2.3 and 4.3): CMD2 (CID), CMD3 until the card
    /// publishes a non-zero RCA (R6), CMD9 (CSD), CMD7 (select), and CMD16 to 512 bytes on standard-capacity cards.
    /// </summary>
    private (Cid Cid, ushort Rca, Csd Csd) AssignAddress(SdCardType type)
    {
        var cid = Cid.Parse(Host.SendCommand(2, 0, SdResponseType.R2).GetLong());
        var rca = (ushort)(Host.SendCommand(3, 0, SdResponseType.R6).Value >> 16);
        if (rca == 0)
            rca = (ushort)(Host.SendCommand(3, 0, SdResponseType.R6).Value >> 16); // 0 is reserved: ask for another
        var csd = Csd.Parse(Host.SendCommand(9, (uint)rca << 16, SdResponseType.R2).GetLong());
        CheckStatus(7, false, Host.SendCommand(7, (uint)rca << 16, SdResponseType.R1b).Value);
        if (type != SdCardType.HighCapacity)
            CheckStatus(16, false, Host.SendCommand(16, BlockSize, SdResponseType.R1).Value);
        return (cid, rca, csd);
    }

    /// <summary>ACMD51 (the SCR, 8 bytes on DAT0), then ACMD6 and the host to a 4-bit bus when the options and the SCR allow it.</summary>
    private Scr ConfigureSdBus(ushort rca)
    {
        var scrBytes = new byte[8];
        CheckStatus(51, true, Host.SendApplicationCommand(rca, 51, 0, SdResponseType.R1,
            new SdhciDataTransfer(SdhciTransferDirection.Read, 8, 1, scrBytes)).Value);
        var scr = Scr.Parse(scrBytes);
        if (Options.FourBitBus && scr.Supports4BitBus)
        {
            CheckStatus(6, true, Host.SendApplicationCommand(rca, 6, 2, SdResponseType.R1).Value);
            Host.SetBusWidth(4);
        }

        return scr;
    }

    /// <summary>CMD8: true for a physical layer 2.00 card that echoed the pattern, false for a 1.x card that did not answer.</summary>
    private bool SendInterfaceCondition()
    {
        uint echo;
        try
        {
            echo = Host.SendCommand(8, CheckPattern, SdResponseType.R7).Value;
        }
        catch (SdhciException e) when (e.Error == SdhciError.CommandTimeout)
        {
            return false; // a 1.x card: CMD8 is illegal there and goes unanswered
        }

        if ((echo & 0xFFF) != CheckPattern)
        {
            throw new SdhciException(SdhciError.UnusableCard,
                $"CMD8 (SEND_IF_COND): the card echoed 0x{echo & 0xFFF:x3}, not 0x{CheckPattern:x3}: it rejects 2.7-3.6 V or the bus corrupts the response.", 8)
            { CardStatus = echo };
        }

        return true;
    }

    private uint WaitUntilReady(uint argument)
    {
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            var ocr = Host.SendApplicationCommand(0, 41, argument, SdResponseType.R3).Value;
            if ((ocr & OcrBusy) != 0)
                return ocr;
            if (Stopwatch.GetElapsedTime(start) >= Options.InitializationTimeout)
            {
                throw new SdhciException(SdhciError.CardBusy,
                    $"ACMD41 (SD_SEND_OP_COND): the card stayed busy for {SdhciHost.Format(Options.InitializationTimeout)} (OCR 0x{ocr:x8}, bit 31 never set): " +
                    "it did not finish powering up. Check the card's supply, or try another card.", 41, true) { CardStatus = ocr };
            }

            if (Options.InitializationPollInterval > TimeSpan.Zero)
                Thread.Sleep(Options.InitializationPollInterval);
        }
    }
}
