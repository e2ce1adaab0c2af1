using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <content>The bus speed mode: High Speed by CMD6, UHS-I (the 1.8 V switch, SDR50/SDR104 by CMD6, tuning), and the clock that follows.</content>
public sealed partial class SdCard<TBus>
{
    /// <summary>
    /// After the bus width: chooses the bus speed mode (UHS-I when the card signals at 1.8 V on a 4-bit bus,
    /// else High or Default Speed), sets the host's timing for it, then the fastest clock the mode, the
    /// options and (in Default Speed) the card's TRAN_SPEED allow, and tunes where the mode needs it. A
    /// tuning that fails falls back to SDR25, which needs none (<see cref="FallBackFromTuning"/>).
    /// </summary>
    /// <returns>The mode, why, the last CMD6 status, and the SD clock now running.</returns>
    private (SdBusSpeed Speed, string Reason, SdSwitchStatus? Status, long ClockHz) SetBusSpeed(ushort rca, Csd csd, Scr scr, bool signalling18)
    {
        var (speed, reason, switchStatus) = signalling18 && Host.BusWidth == 4
            ? SelectUhsMode(csd, scr)
            : SelectBusSpeed(rca, csd, scr);
        var clock = SetHostTiming(speed, signalling18, csd);
        if (NeedsTuning(speed))
        {
            if (Host.ExecuteTuning(out var tries))
            {
                reason += string.Create(CultureInfo.InvariantCulture, $"; tuned in {tries} CMD19 (Sampling Clock Select set)");
            }
            else
            {
                var failed = string.Create(CultureInfo.InvariantCulture,
                    $"sampling clock tuning for {SdBusSpeeds.Name(speed)} did not converge in {tries} tuning commands (the limit is {SdhciHost.MaxTuningCommands})");
                (speed, reason, switchStatus, clock) = FallBackFromTuning(speed, failed, csd);
            }
        }
        else if (SdBusSpeeds.IsUhs(speed))
        {
            reason += speed == SdBusSpeed.Ddr50
                ? "; no tuning (DDR50: SD Host Controller 3.00 asks for it in SDR104, and in SDR50 with Capabilities bit 45, only)"
                : "; no tuning (SDR50 without Capabilities bit 45, Use Tuning for SDR50)";
        }

        return (speed, reason, switchStatus, clock);
    }

    /// <summary>
    /// Whether <paramref name="speed"/> needs sampling clock tuning: SDR104 always, SDR50 when the host sets Use Tuning
    /// for SDR50 (Capabilities bit 45), nothing else (SD Host Controller 3.00, Host Control 2 register (0x3E), Execute Tuning; Physical Layer
    /// 3.01, 4.2.4.5). Linux's sdhci.c also tunes DDR50 and only warns when that fails ("ddr50 tuning failed" in
    /// core/sd.c); here DDR50 runs on the fixed sampling clock from the start.
    /// </summary>
    private bool NeedsTuning(SdBusSpeed speed) => speed == SdBusSpeed.Sdr104 || (speed == SdBusSpeed.Sdr50 && Host.Capabilities.UseTuningForSdr50);

    /// <summary>The host's side of a mode: UHS Mode Select or High Speed Enable, then the fastest clock allowed.</summary>
    /// <returns>The SD clock now running.</returns>
    private long SetHostTiming(SdBusSpeed speed, bool signalling18, Csd csd)
    {
        var target = Math.Min(Options.MaxClockHz, SdBusSpeeds.MaxClockHz(speed));
        // TRAN_SPEED describes Default Speed; after a switch the card runs at the mode's limit (Linux: hs_max_dtr).
        if (speed == SdBusSpeed.Default && csd.MaxTransferRateHz > 0)
            target = Math.Min(target, csd.MaxTransferRateHz);
        if (SdBusSpeeds.IsUhs(speed) || (signalling18 && speed == SdBusSpeed.High))
            Host.SetUhsMode(speed);
        else if (speed == SdBusSpeed.High)
            Host.SetHighSpeed(true);
        return Host.SetClock(target);
    }

    /// <summary>
    /// After a failed tuning (the engine has cleared Execute Tuning and Sampling Clock Select and reset the lines):
    /// SDR25, High Speed timing at 1.8 V, which no specification tunes. The host goes first (UHS Mode Select SDR25 and
    /// at most 50 MHz, so the untuned SDR104/SDR50 clock never carries another command), then CMD6 mode 1 switches the
    /// card's group 1 to function 1 and must report it (Physical Layer 3.01, 4.3.10), current limit and driver strength
    /// left as they are (0xF). Linux's sdhci.c instead keeps the mode on the fixed sampling clock ("Tuning failed,
    /// falling back to fixed sampling clock") and relies on re-tuning and CRC recovery later; a fixed sampling point
    /// at 100 or 208 MHz is the likeliest cause of data CRC errors, so this driver gives up speed instead, and says so.
    /// </summary>
    /// <exception cref="SdhciException"><see cref="SdhciError.Tuning"/>: the card did not take SDR25 either.</exception>
    private (SdBusSpeed Speed, string Reason, SdSwitchStatus? Status, long ClockHz) FallBackFromTuning(SdBusSpeed tried, string failed, Csd csd)
    {
        var clock = SetHostTiming(SdBusSpeed.High, signalling18: true, csd);
        SdSwitchStatus switched;
        try
        {
            switched = SwitchFunction(SdSwitchStatus.UhsArgument(true, SdBusSpeed.High, 0xF, 0xF));
        }
        catch (SdhciException e) when (e.Error is not (SdhciError.CardRemoved or SdhciError.NoCard or SdhciError.ControllerNotResponding))
        {
            throw new SdhciException(SdhciError.Tuning, $"CMD19 (SEND_TUNING_BLOCK): {failed}, and the fall-back to SDR25 failed: {e.Message}", 19);
        }

        if (switched.Selected(1) != (int)SdBusSpeed.High)
        {
            throw new SdhciException(SdhciError.Tuning,
                $"CMD19 (SEND_TUNING_BLOCK): {failed}, and the fall-back to SDR25 failed: CMD6 reports function 0x{switched.Selected(1):x} for group 1 ({switched.RawHex}). " +
                "On a ZynqMP the tap delays may be wrong (see the README, \"On a real ZCU102\"); --max-speed high avoids UHS-I.", 19);
        }

        return (SdBusSpeed.High,
            $"fell back from {SdBusSpeeds.Name(tried)}: {failed}, so SDR25 (High Speed timing at 1.8 V, 50 MHz), which needs no tuning; " +
            "1.8 V signalling (CMD11). On a ZynqMP the tap delays may be wrong (see the README, \"On a real ZCU102\")",
            switched, clock);
    }

    /// <summary>
    /// Chooses the bus speed mode and switches the card to it (SD Physical Layer 4.3.10, CMD6): High Speed
    /// when the options allow it, the host has High Speed Support (Capabilities bit 21), the card follows
    /// physical layer 1.10 or later (SCR SD_SPEC) with command class 10 (CSD CCC bit 10), and a CMD6 query
    /// (mode 0) says function 1 of group 1 is supported and free; then CMD6 mode 1 switches, and must
    /// report function 1 selected. Otherwise Default Speed, with the first reason that ruled High Speed out.
    /// The host side (High Speed Enable, the clock) is the caller's. UHS-I (1.8 V, CMD11, SDR50/SDR104
    /// with tuning) would be further steps here, before High Speed, when the host offers 1.8 V and SDR modes.
    /// </summary>
    /// <exception cref="SdhciException">The switch itself (mode 1) failed: the card's timing is then unknown, so the bring-up stops, as Linux's does.</exception>
    private (SdBusSpeed Speed, string Reason, SdSwitchStatus? Status) SelectBusSpeed(ushort rca, Csd csd, Scr scr)
    {
        if (!Options.MaxBusSpeed.Allows(SdBusSpeed.High))
            return (SdBusSpeed.Default, "capped by the options (--max-speed default)", null);
        if (!Host.Capabilities.HighSpeed)
            return (SdBusSpeed.Default, "the host lacks High Speed support (Capabilities bit 21 is clear)", null);
        if (scr.SdSpec < 1)
            return (SdBusSpeed.Default, $"the card follows physical layer {scr.SpecVersion} (SCR SD_SPEC 0), which has no CMD6 (SWITCH_FUNC, from 1.10)", null);
        if ((csd.CommandClasses & (1 << 10)) == 0)
            return (SdBusSpeed.Default, $"the card lacks command class 10, switch (CSD CCC 0x{csd.CommandClasses:x3}): no CMD6 (SWITCH_FUNC)", null);

        SdSwitchStatus query;
        try
        {
            query = SwitchFunction(SdSwitchStatus.AccessModeArgument(false, SdBusSpeed.High));
        }
        catch (SdhciException e) when (e.Error == SdhciError.CommandTimeout)
        {
            // A card that does not know CMD6 stays silent and reports ILLEGAL_COMMAND in its next R1: CMD13 takes it.
            TakeStaleStatus(rca);
            return (SdBusSpeed.Default, "the card did not answer CMD6 (SWITCH_FUNC) although its CSD lists command class 10", null);
        }

        if (!query.Supports(1, (int)SdBusSpeed.High))
            return (SdBusSpeed.Default, $"the card does not offer High Speed (CMD6 function group 1 supports 0x{query.Support(1):x4}, bit 1 clear)", query);
        if (query.Selected(1) != (int)SdBusSpeed.High)
            return (SdBusSpeed.Default, $"the card cannot switch to High Speed now (CMD6 query: function group 1 reports 0x{query.Selected(1):x})", query);
        if (query.Busy(1, (int)SdBusSpeed.High))
            return (SdBusSpeed.Default, "the card reports High Speed busy (CMD6 query, function group 1 busy status)", query);

        var switched = SwitchFunction(SdSwitchStatus.AccessModeArgument(true, SdBusSpeed.High));
        if (switched.Selected(1) != (int)SdBusSpeed.High)
        {
            throw new SdhciException(SdhciError.UnusableCard,
                $"CMD6 (SWITCH_FUNC): the card offered High Speed but the switch reports function 0x{switched.Selected(1):x} for group 1 ({switched.RawHex}).", 6);
        }

        return (SdBusSpeed.High, "card and host support it", switched);
    }

    /// <summary>
    /// The signal voltage switch, SD Host Controller 3.00, 3.6.1 (Signal Voltage Switch Procedure) and Physical
    /// Layer 3.01, 4.2.4.2: CMD11 (VOLTAGE_SWITCH) and its R1; stop the SD clock; DAT[3:0] must read low (the card
    /// drives them while it switches); 1.8V Signaling Enable, which must stay set; 5 ms; the SD clock again; after
    /// 1 ms DAT[3:0] must read high, the card's sign that it switched.
    /// </summary>
    /// <returns>Null when the card signals at 1.8 V now; otherwise what failed, and the caller power-cycles the card.</returns>
    private string? SwitchVoltage()
    {
        uint status;
        try
        {
            status = Host.SendCommand(11, 0, SdResponseType.R1).Value;
        }
        catch (SdhciException e) when (e.Error is not (SdhciError.CardRemoved or SdhciError.NoCard or SdhciError.ControllerNotResponding))
        {
            return $"CMD11 failed: {e.Message}";
        }

        if (((SdCardStatus)status & SdCardStatusInfo.Errors) != 0)
            return $"CMD11 answered with {SdCardStatusInfo.DescribeErrors(status)} (status 0x{status:x8})";
        Host.EnableSdClock(false);
        var low = Host.DatLineLevels;
        if (low != 0)
            return $"DAT[3:0] read 0x{low:x} with the clock stopped after CMD11, not 0: the card did not start the switch";
        if (!Host.SetSignalling18V(true))
            return "Host Control 2 1.8V Signaling Enable did not stay set: the host's regulator did not switch";
        Thread.Sleep(Options.VoltageSwitchDelay);
        if (!Host.Signalling18V)
            return "1.8V Signaling Enable cleared itself within 5 ms: the host's regulator did not hold 1.8 V";
        Host.EnableSdClock(true);
        Thread.Sleep(TimeSpan.FromMilliseconds(1));
        var high = Host.DatLineLevels;
        return high == 0xF ? null : $"DAT[3:0] read 0x{high:x} 1 ms after the clock restarted, not 0xf: the card did not finish the switch";
    }

    /// <summary>
    /// The UHS-I mode at 1.8 V (Physical Layer 3.01, 4.2.4.1 Figure 4-6, and 4.3.10): a CMD6 query; the fastest
    /// of SDR104, DDR50 and SDR50, in Linux's order (<see cref="SdBusSpeeds.Rank"/>), that the card offers (group 1
    /// functions 3, 4, 2), the host supports (Capabilities bits 33, 34, 32) and the options allow; the current
    /// limit (group 4) the card offers up to the host's Maximum Current for 1.8 V (0x48 bits 23:16; 200 mA when
    /// the host does not say); driver strength (group 3) left at Type B, the default, since any other is a board's
    /// choice (Linux: fixed-drv-type). One CMD6 switch sets both; it must report them. Falls back to SDR25 (High
    /// Speed timing at 1.8 V) when the card offers none of the three.
    /// </summary>
    private (SdBusSpeed Speed, string Reason, SdSwitchStatus? Status) SelectUhsMode(Csd csd, Scr scr)
    {
        if ((csd.CommandClasses & (1 << 10)) == 0 || scr.SdSpec < 1)
            return (SdBusSpeed.Default, "the card accepted 1.8 V but has no CMD6 (command class 10): SDR12", null);
        var query = SwitchFunction(SdSwitchStatus.UhsArgument(false, SdBusSpeed.Sdr104, 0xF, 0xF));
        SdBusSpeed? chosen = null;
        var passedOver = new List<string>();
        foreach (var mode in (ReadOnlySpan<SdBusSpeed>)[SdBusSpeed.Sdr104, SdBusSpeed.Ddr50, SdBusSpeed.Sdr50])
        {
            if (WhyNotUhs(mode, query) is { } whyNot)
            {
                passedOver.Add(whyNot);
                continue;
            }

            chosen = mode;
            break;
        }

        var speed = chosen ?? SdBusSpeed.High;
        var why = chosen is null
            ? $"the card offers no SDR50, DDR50 or SDR104 the host and options allow (CMD6 group 1 supports 0x{query.Support(1):x4}): SDR25"
            : passedOver.Count == 0 ? "card and host support it"
            : string.Join("; ", passedOver.Distinct());

        // Group 4: the largest of 800, 600, 400 mA the card offers and the host's 1.8 V supply allows, else 200 mA.
        var hostMilliamps = (int)((Host.MaximumCurrent >> 16) & 0xFF) * 4;
        var limit = 0;
        for (var function = 3; function > 0 && chosen is not null; function--)
        {
            if (query.Supports(4, function) && hostMilliamps >= 200 * (function + 1))
            {
                limit = function;
                break;
            }
        }

        var switched = SwitchFunction(SdSwitchStatus.UhsArgument(true, speed, 0xF, chosen is null ? 0xF : limit));
        if (switched.Selected(1) != (int)speed)
        {
            throw new SdhciException(SdhciError.UnusableCard,
                $"CMD6 (SWITCH_FUNC): the card offered {SdBusSpeeds.Name(speed)} but the switch reports function 0x{switched.Selected(1):x} for group 1 ({switched.RawHex}).", 6);
        }

        var current = chosen is null ? "" : switched.Selected(4) is var got and >= 0 and <= 3
            ? string.Create(CultureInfo.InvariantCulture, $"; current limit {200 * (got + 1)} mA (host allows {(hostMilliamps == 0 ? "an unstated amount" : $"{hostMilliamps} mA")} at 1.8 V)")
            : $"; current limit unchanged (CMD6 group 4 reports 0x{switched.Selected(4):x})";
        return (speed, $"{why}; 1.8 V signalling (CMD11), driver strength Type B (the default){current}", switched);
    }

    /// <summary>Why a faster UHS-I mode was passed over (the options, then the host, then the card), or null when it can be used.</summary>
    private string? WhyNotUhs(SdBusSpeed mode, SdSwitchStatus query)
    {
        var name = SdBusSpeeds.Name(mode);
        if (!Options.MaxBusSpeed.Allows(mode))
            return $"capped by the options (--max-speed {SdBusSpeeds.Key(Options.MaxBusSpeed)})";
        var (host, bit) = mode switch
        {
            SdBusSpeed.Sdr104 => (Host.Capabilities.Sdr104, 33),
            SdBusSpeed.Ddr50 => (Host.Capabilities.Ddr50, 34),
            _ => (Host.Capabilities.Sdr50, 32),
        };
        if (!host)
            return $"the host lacks {name} (Capabilities bit {bit} is clear)";
        if (!query.Supports(1, (int)mode))
            return $"the card does not offer {name} (CMD6 group 1 supports 0x{query.Support(1):x4})";
        return query.Busy(1, (int)mode) ? $"the card reports {name} busy (CMD6 query, function group 1 busy status)" : null;
    }

    /// <summary>CMD6 with its 64-byte status read through the data port (an addressed data transfer command, R1).</summary>
    private SdSwitchStatus SwitchFunction(uint argument)
    {
        var block = new byte[SdSwitchStatus.Length];
        CheckStatus(6, false, Host.SendCommand(6, argument, SdResponseType.R1,
            new SdhciDataTransfer(SdhciTransferDirection.Read, SdSwitchStatus.Length, 1, block)).Value);
        return SdSwitchStatus.Parse(block);
    }
}
