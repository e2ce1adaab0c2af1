using System.Diagnostics;

namespace Sdhci.Probe.Sdhci;

/// <content>The identification sequence (<see cref="Initialize"/>): CMD0, CMD8, ACMD41 (asking for 1.8 V; the switch itself is in SdCard.BusSpeed.cs), CMD2, CMD3, CMD9, CMD7, ACMD51, ACMD6.</content>
public sealed partial class SdCard
{
    private const uint CheckPattern = 0x1AA;           // CMD8: VHS 2.7-3.6 V (0x1) and pattern 0xAA
    private const uint OcrBusy = 0x8000_0000;          // set when power-up is done
    private const uint OcrCcs = 0x4000_0000;           // card capacity status (ACMD41 answer) / HCS (ACMD41 argument)
    private const uint OcrVoltageWindow = 0x00FF_FF80;
    private const uint OcrS18 = 0x0100_0000;           // S18R in the ACMD41 argument, S18A in its answer (Physical Layer 3.01, 4.2.4.1)

    /// <summary>Brings the controller up and the card to the transfer state; see the class remarks for the sequence.</summary>
    /// <returns>The card's registers, address, bus width and clock.</returns>
    /// <exception cref="SdhciException">No card, a failed command, a card that stays busy or answers wrongly.</exception>
    public SdCardInfo Initialize()
    {
        Info = null;
        // UHS-I is asked for (S18R) only when the options allow it and the host has 1.8 V and an SDR mode.
        var tryUhs = SdBusSpeeds.IsUhs(Options.MaxBusSpeed) && Host.SupportsUhs;
        string? uhsNote = null;
        bool version2;
        uint ocr;
        var signalling18 = false;
        while (true)
        {
            Host.Initialize();
            if (!Host.CardPresent)
            {
                throw new SdhciException(SdhciError.NoCard,
                    "No card: Present State (0x24) says no card is inserted. Insert a card (QEMU: -drive if=sd,file=IMAGE,format=raw, or -device sd-card,drive=...).");
            }

            Host.SendCommand(0, 0, SdResponseType.None);
            version2 = SendInterfaceCondition();

            // An inquiry first (argument 0) to learn the card's voltage window, as Linux does.
            var cardWindow = Host.SendApplicationCommand(0, 41, 0, SdResponseType.R3).Value & OcrVoltageWindow;
            var window = cardWindow & Host.HostOcrMask;
            if (window == 0)
            {
                throw new SdhciException(SdhciError.UnusableCard,
                    $"ACMD41: the card's voltage window 0x{cardWindow:x8} and the host's 0x{Host.HostOcrMask:x8} ({Host.Voltage}) do not overlap.", 41, true);
            }

            // Physical Layer 3.01, 4.2.4.1 (Figure 4-6): ACMD41 with HCS and S18R; the ready answer's S18A says
            // whether the card will switch its signalling to 1.8 V.
            var askUhs = tryUhs && version2;
            ocr = WaitUntilReady(window | (version2 ? OcrCcs : 0) | (askUhs ? OcrS18 : 0));
            if (!askUhs)
                break;
            if ((ocr & OcrS18) == 0)
            {
                uhsNote = "the card did not accept 1.8 V signalling (ACMD41 S18A clear), so no UHS-I";
                break;
            }

            if (SwitchVoltage() is not { } failure)
            {
                signalling18 = true;
                break;
            }

            // A failed switch leaves the card's signalling unknown: power-cycle it and identify it again at
            // 3.3 V without S18R (Physical Layer 4.2.4.1; Linux's mmc_sd_init_card does the same).
            uhsNote = $"the 1.8 V signal voltage switch failed ({failure}); the card was power-cycled and runs at 3.3 V";
            Host.SetSignalling18V(false);
            Host.PowerOff();
            Thread.Sleep(Options.PowerCycleDelay);
            tryUhs = false;
        }

        var type = !version2 ? SdCardType.StandardCapacityV1
            : (ocr & OcrCcs) != 0 ? SdCardType.HighCapacity
            : SdCardType.StandardCapacity;

        var cid = Cid.Parse(Host.SendCommand(2, 0, SdResponseType.R2).GetLong());
        var rca = (ushort)(Host.SendCommand(3, 0, SdResponseType.R6).Value >> 16);
        if (rca == 0)
            rca = (ushort)(Host.SendCommand(3, 0, SdResponseType.R6).Value >> 16); // 0 is reserved: ask for another
        var csd = Csd.Parse(Host.SendCommand(9, (uint)rca << 16, SdResponseType.R2).GetLong());
        CheckStatus(7, false, Host.SendCommand(7, (uint)rca << 16, SdResponseType.R1b).Value);
        if (type != SdCardType.HighCapacity)
            CheckStatus(16, false, Host.SendCommand(16, BlockSize, SdResponseType.R1).Value);

        var scrBytes = new byte[8];
        CheckStatus(51, true, Host.SendApplicationCommand(rca, 51, 0, SdResponseType.R1,
            new SdhciDataTransfer(SdhciTransferDirection.Read, 8, 1, scrBytes)).Value);
        var scr = Scr.Parse(scrBytes);

        if (Options.FourBitBus && scr.Supports4BitBus)
        {
            CheckStatus(6, true, Host.SendApplicationCommand(rca, 6, 2, SdResponseType.R1).Value);
            Host.SetBusWidth(4);
        }

        var (speed, reason, switchStatus, clock) = SetBusSpeed(rca, csd, scr, signalling18);

        // An explicit Cmd23 is tried even when the SCR does not list it (QEMU's card takes CMD23 from
        // physical layer 3.01 on but never lists it); a card that refuses it fails the first multi-block command.
        var blockCountMode = Options.BlockCountMode == SdBlockCountMode.Auto
            ? scr.SupportsCmd23 ? SdBlockCountMode.Cmd23 : SdBlockCountMode.AutoCmd12
            : Options.BlockCountMode;

        Info = new SdCardInfo(type, ocr, rca, cid, csd, scr, Host.BusWidth, clock)
        {
            BlockCountMode = blockCountMode,
            BusSpeed = speed,
            BusSpeedReason = reason,
            UhsNote = SdBusSpeeds.IsUhs(speed) ? null : uhsNote,
            SwitchStatus = switchStatus,
        };
        return Info;
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
