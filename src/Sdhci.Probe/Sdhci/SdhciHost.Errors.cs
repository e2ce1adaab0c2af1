using System.Globalization;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <content>Error decoding (Error Interrupt Status to a typed <see cref="SdhciException"/>) and the line resets after an error.</content>
public sealed partial class SdhciHost<TBus>
{
    private const I AllErrors = (I)0xFFFF_0000u;

    /// <summary>Errors told by their bit alone, in the order they are reported when several come at once: these before ADMA and auto-CMD12 errors.</summary>
    private static readonly (I Bit, SdhciError Error, string Text)[] CommandErrorTexts =
    [
        (I.CommandCrcError, SdhciError.CommandCrc, "the response failed its CRC check (Command CRC Error): a signal problem on the bus, or a clock too fast for the card"),
        (I.CommandEndBitError, SdhciError.CommandEndBit, "the response's end bit was 0 (Command End Bit Error)"),
        (I.CommandIndexError, SdhciError.CommandIndex, "the response carried another command's index (Command Index Error)"),
    ];

    /// <summary>Errors told by their bit alone, reported after ADMA and auto-CMD12 errors, which read registers of their own.</summary>
    private static readonly (I Bit, SdhciError Error, string Text)[] DataErrorTexts =
    [
        (I.DataTimeoutError, SdhciError.DataTimeout, "the card sent no data, or stayed busy, within the data timeout (Data Timeout Error)"),
        (I.DataCrcError, SdhciError.DataCrc, "the data failed its CRC check (Data CRC Error)"),
        (I.DataEndBitError, SdhciError.DataEndBit, "a data end bit was 0 (Data End Bit Error)"),
        (I.CurrentLimitError, SdhciError.CurrentLimit, "the card drew more current than the controller allows (Current Limit Error)"),
        (I.TuningError, SdhciError.Tuning, "the controller's tuning circuit failed (Tuning Error): the sampling clock is no longer valid"),
    ];

    private void ThrowOnError(Context context)
    {
        var errors = _latched & AllErrors;
        if (errors == 0 && (_latched & I.CardRemoval) == 0)
            return;
        var status = _latched;
        var errorStatus = (ushort)((uint)errors >> 16);
        // A card removal alone raises no error bit (QEMU completes the transfer with zeros): nothing to decode then.
        var raw = errors == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" (Error Interrupt Status 0x{errorStatus:x4}: {SdhciException.DescribeErrorStatus(errorStatus)})");
        SdhciException Fail(SdhciError error, string text) => new(error, $"{context}: {text}{raw}.", context.Index, context.Application, status);

        // Card Removal (0x30 bit 7), or an error with Card Inserted (0x24 bit 16) low: the card went away mid-command.
        // Linux's sdhci_card_event ends the request with -ENOMEDIUM and its block layer does not retry; nor does this.
        var present = CardPresent;
        if ((status & I.CardRemoval) != 0 || (!present && (errors & ~I.CommandTimeoutError) != 0))
        {
            var how = (status & I.CardRemoval) != 0 ? "Card Removal interrupt, " : "";
            throw Fail(SdhciError.CardRemoved,
                $"card removed during the command ({how}Present State 0x24 Card Inserted reads {(present ? "1" : "0")}); " +
                "what it transferred is incomplete. Reinsert the card and run the command again");
        }

        if ((errors & I.CommandTimeoutError) != 0)
        {
            if (!present)
            {
                throw Fail(SdhciError.NoCard,
                    "no card: Present State (0x24) says no card is inserted, and the command went unanswered. Insert a card " +
                    "(QEMU: -drive if=sd,file=IMAGE,format=raw, or -device sd-card,drive=...)");
            }

            throw Fail(SdhciError.CommandTimeout, "the card did not answer (Command Timeout Error)");
        }

        foreach (var (bit, error, text) in CommandErrorTexts)
        {
            if ((errors & bit) != 0)
                throw Fail(error, text);
        }

        if ((errors & I.AdmaError) != 0)
            throw AdmaFailure(context, status, raw);
        if ((errors & I.AutoCmdError) != 0)
        {
            var auto = _regs.Read(S.AutoCmdErrorStatus);
            throw new SdhciException(SdhciError.AutoCommand,
                $"{context}: the Auto CMD12 after the transfer failed (Auto CMD Error Status 0x{auto:x4}: {SdhciException.DescribeAutoCmdErrorStatus(auto)}){raw}.",
                context.Index, context.Application, status) { AutoCmdErrorStatus = auto };
        }

        foreach (var (bit, error, text) in DataErrorTexts)
        {
            if ((errors & bit) != 0)
                throw Fail(error, text);
        }

        throw Fail(SdhciError.Timeout, "the controller reported a vendor-specific or unknown error");
    }

    /// <summary>An ADMA Error, with the engine's state and the descriptor it stopped at (ADMA Error Status 0x54, ADMA System Address 0x58).</summary>
    private SdhciException AdmaFailure(Context context, I status, string raw)
    {
        var adma = _regs.Read(S.AdmaErrorStatus);
        // 0x5C only exists with 64-bit addressing: a 32-bit engine reads 0x58 alone.
        var descriptor = Adma2Format == SdhciAdma2Format.Address32 ? _regs.Read(S.AdmaSystemAddress) : ReadAdmaAddress64();
        var state = (adma & 3) switch
        {
            0 => "ST_STOP: the descriptor before the address was at fault",
            1 => "ST_FDS: fetching a descriptor (not valid, or unreachable)",
            3 => "ST_TFR: transferring data (the data address is unreachable)",
            _ => "unknown state",
        };
        return new SdhciException(SdhciError.Adma,
            $"{context}: the ADMA engine failed (ADMA Error), in {state}{((adma & 4) != 0 ? ", with a length mismatch" : "")}; " +
            $"ADMA Error Status 0x{adma:x2}, descriptor address 0x{descriptor:x}{raw}.",
            context.Index, context.Application, status) { AdmaErrorStatus = adma, AdmaDescriptorAddress = descriptor };
    }

    /// <summary>
    /// After an error, as SD Host Controller 3.00, 3.10.1 (Error Interrupt Recovery) and Linux's
    /// <c>sdhci_reset_for(REQUEST_ERROR)</c> do: Software Reset for the CMD line (0x2F bit 1) always, and
    /// for the DAT line (bit 2) when the command used it (data, busy) or a data, ADMA or auto-CMD error
    /// came, in one write, waiting for both bits to clear; then forget stale status. The DAT reset also
    /// stops the controller's DMA, so the memory may be reused (a retry) or released.
    /// </summary>
    private void Recover(bool dataLine)
    {
        try
        {
            Reset(dataLine ? SdhciReset.CommandLine | SdhciReset.DataLine : SdhciReset.CommandLine);
            var status = _regs.Read(S.InterruptStatus);
            if (status != uint.MaxValue)
                ClearStatus(status);
        }
        catch (SdhciException)
        {
            // The error being reported matters more than a failed clean-up.
        }

        _latched = I.None;
    }
}
