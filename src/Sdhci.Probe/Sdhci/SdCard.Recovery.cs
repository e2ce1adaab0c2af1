using System.Diagnostics;
using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <content>What follows a failed block command: the card's side of recovery (CMD13, CMD12) and whether to retry.</content>
public sealed partial class SdCard<TBus>
{
    /// <summary>Block commands retried since this card was created (each retry after one failed attempt).</summary>
    public int RetriesMade { get; private set; }

    /// <summary>The transfer errors a retry can cure: signal errors on CMD or DAT, a late card, an ADMA or auto-CMD12 fault.</summary>
    private static bool Retryable(SdhciError error) => error is SdhciError.CommandTimeout or SdhciError.CommandCrc or SdhciError.CommandEndBit
        or SdhciError.CommandIndex or SdhciError.DataTimeout or SdhciError.DataCrc or SdhciError.DataEndBit or SdhciError.Adma or SdhciError.AutoCommand;

    private static string WhyNotRetried(SdhciError error) => error switch
    {
        SdhciError.CardStatus => "the card itself refused the command (an error in its R1 status), which a retry would repeat",
        SdhciError.Timeout => "the controller raised no interrupt at all, which a retry would repeat",
        SdhciError.CurrentLimit => "the card drew too much current: a supply fault, not a signal error",
        _ => "a retry would not change it",
    };

    /// <summary>
    /// The card's side of error recovery, after the engine reset the lines, as Linux's core/block.c does it
    /// (<c>mmc_blk_mq_rw_recovery</c>, <c>mmc_blk_fix_state</c>): CMD13 for the state; in the data or receive
    /// state (the transfer was cut off) CMD12 to stop it (SD Host Controller 3.00, 3.10.1: the Abort Command);
    /// after a write, CMD13 until the card has programmed and is back in the transfer state.
    /// </summary>
    /// <returns>The last state CMD13 reported (null when it did not answer) and a description for the message.</returns>
    /// <exception cref="SdhciException"><see cref="SdhciError.CardRemoved"/> or <see cref="SdhciError.NoCard"/>: the card went away meanwhile.</exception>
    private (SdCardState? State, string Text) RecoverCard(ushort rca, bool read)
    {
        if (Status(rca) is not { } status)
            return (null, "unknown (CMD13, SEND_STATUS, failed too)");
        var state = SdCardStatusInfo.State(status);
        var stopped = "";
        if (state is SdCardState.SendingData or SdCardState.ReceivingData)
        {
            StopTransmission();
            stopped = $", stopped with CMD12 from {state}";
            if (Status(rca) is not { } after)
                return (null, $"unknown after CMD12 (CMD13 failed; it was {state})");
            status = after;
            state = SdCardStatusInfo.State(status);
        }

        if (!read)
        {
            // A write cut off leaves the card programming what it received: wait as after a good write.
            var start = Stopwatch.GetTimestamp();
            while (state == SdCardState.Programming && Stopwatch.GetElapsedTime(start) < Options.ProgrammingTimeout)
            {
                Thread.Yield();
                if (Status(rca) is not { } polled)
                    break;
                status = polled;
                state = SdCardStatusInfo.State(status);
            }
        }

        var errors = ((SdCardStatus)status & SdCardStatusInfo.Errors) != 0 ? $", reporting {SdCardStatusInfo.DescribeErrors(status)}" : "";
        return (state, string.Create(CultureInfo.InvariantCulture, $"{state} (CMD13 status 0x{status:x8}{errors}{stopped})"));
    }

    /// <summary>CMD13, or null when it fails; a removed card is reported, not swallowed.</summary>
    private uint? Status(ushort rca)
    {
        try
        {
            return SendStatus(rca);
        }
        catch (SdhciException e) when (e.Error is not (SdhciError.CardRemoved or SdhciError.NoCard or SdhciError.ControllerNotResponding))
        {
            return null;
        }
    }

    /// <summary>CMD12 after a failed multi-block command, so the card leaves the data state; its own failure is not the news.</summary>
    private void StopTransmission()
    {
        try
        {
            Host.SendCommand(12, 0, SdResponseType.R1b);
        }
        catch (SdhciException)
        {
            // The card may have stopped already; the original error is what the caller needs.
        }
    }
}
