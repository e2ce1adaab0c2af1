using System.Diagnostics;
using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>What kind of SD memory card answered.</summary>
public enum SdCardType
{
    /// <summary>Standard capacity, physical layer 1.x: no answer to CMD8. Byte addressing.</summary>
    StandardCapacityV1,

    /// <summary>Standard capacity (SDSC, up to 2 GiB), physical layer 2.00 or later. Byte addressing.</summary>
    StandardCapacity,

    /// <summary>High or extended capacity (SDHC, SDXC: CCS set in the OCR). Block addressing.</summary>
    HighCapacity,
}

/// <summary>Policies and timeouts of the card bring-up and block transfers.</summary>
/// <example>
/// <code>
/// var card = new SdCard(host, new SdCardOptions { MaxClockHz = 12_500_000, FourBitBus = false });
/// </code>
/// </example>
public sealed record SdCardOptions
{
    /// <summary>How long ACMD41 may report the card busy (the specification gives a card 1 s). Default 1 s.</summary>
    public TimeSpan InitializationTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Pause between ACMD41 polls. Default 10 ms, as Linux does.</summary>
    public TimeSpan InitializationPollInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// A cap on the SD clock after identification, below the bus speed mode's own limit (25 MHz Default
    /// Speed, 50 MHz High Speed); the card's TRAN_SPEED (in Default Speed) and the controller's dividers
    /// may lower it further. Default: no cap.
    /// </summary>
    public long MaxClockHz { get; init; } = long.MaxValue;

    /// <summary>The fastest bus speed mode to try; the card and the host may allow less. Default <see cref="SdBusSpeed.Sdr104"/>, the fastest this driver brings up.</summary>
    public SdBusSpeed MaxBusSpeed { get; init; } = SdBusSpeed.Sdr104;

    /// <summary>How long the host waits with 1.8V Signaling Enable set and the SD clock stopped (SD Host Controller 3.00, 3.6.1: 5 ms). Default 5 ms.</summary>
    public TimeSpan VoltageSwitchDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>How long bus power stays off when a failed voltage switch power-cycles the card (at least 1 ms). Default 10 ms.</summary>
    public TimeSpan PowerCycleDelay { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Switch card and host to the 4-bit bus when the card's SCR allows. Default true.</summary>
    public bool FourBitBus { get; init; } = true;

    /// <summary>Blocks per read or write command at most (the Block Count register allows 65535). Default 2048 (1 MiB).</summary>
    public int MaxBlocksPerCommand { get; init; } = 2048;

    /// <summary>How long a card may stay in the programming state after a write. Default 5 s.</summary>
    public TimeSpan ProgrammingTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How a multi-block read or write ends. Default <see cref="SdBlockCountMode.Auto"/>.</summary>
    public SdBlockCountMode BlockCountMode { get; init; } = SdBlockCountMode.Auto;

    /// <summary>
    /// How many times a block command (with its CMD23) is retried after a CRC, end-bit, index, timeout, ADMA or
    /// auto-CMD12 error, each time after the line resets, CMD13 and, where needed, CMD12. Default 4: five
    /// attempts in all, as Linux's block layer (core/block.c, MMC_MAX_RETRIES 5). 0 fails on the first error.
    /// </summary>
    public int Retries { get; init; } = DefaultRetries;

    /// <summary>The default of <see cref="Retries"/>.</summary>
    public const int DefaultRetries = 4;
}

/// <summary>How the card learns where a multi-block read (CMD18) or write (CMD25) ends.</summary>
public enum SdBlockCountMode
{
    /// <summary><see cref="Cmd23"/> when the card's SCR lists CMD23 (CMD_SUPPORT bit 1), else <see cref="AutoCmd12"/>.</summary>
    Auto,

    /// <summary>Open-ended: the controller sends CMD12 (STOP_TRANSMISSION) after the last block (Transfer Mode bit 2, Auto CMD12).</summary>
    AutoCmd12,

    /// <summary>
    /// Pre-defined: CMD23 (SET_BLOCK_COUNT) with the count before the data command, so the card stops
    /// by itself and no CMD12 follows. Cards of physical layer 3.00 and later that list CMD23 in their SCR.
    /// </summary>
    Cmd23,
}

/// <summary>Takes the blocks of one read command as they arrive; the span is only valid during the call.</summary>
/// <param name="lba">The first of the blocks.</param>
/// <param name="blocks">Whole 512-byte blocks.</param>
public delegate void SdBlockSink(long lba, ReadOnlySpan<byte> blocks);

/// <summary>Fills the blocks of one write command, all of the span, or throws.</summary>
/// <param name="lba">Where the first of the blocks will be written.</param>
/// <param name="blocks">Whole 512-byte blocks to fill.</param>
public delegate void SdBlockSource(long lba, Span<byte> blocks);

/// <summary>What the bring-up learned about the card.</summary>
/// <param name="Type">SDSC v1, SDSC, or SDHC/SDXC.</param>
/// <param name="Ocr">The OCR of the last ACMD41 (bit 31 ready, bit 30 CCS, bits 23:8 voltage window).</param>
/// <param name="Rca">The relative card address from CMD3.</param>
/// <param name="Cid">The identification register.</param>
/// <param name="Csd">The card-specific data.</param>
/// <param name="Scr">The configuration register.</param>
/// <param name="BusWidth">1 or 4.</param>
/// <param name="ClockHz">The SD clock the card runs at now.</param>
public sealed record SdCardInfo(SdCardType Type, uint Ocr, ushort Rca, Cid Cid, Csd Csd, Scr Scr, int BusWidth, long ClockHz)
{
    /// <summary>The bus speed mode the bring-up chose.</summary>
    public SdBusSpeed BusSpeed { get; init; }

    /// <summary>Why it is that mode and not a faster one: "card and host support it", or the first thing that ruled the faster one out.</summary>
    public string BusSpeedReason { get; init; } = "";

    /// <summary>Why UHS-I was tried and not reached (the card refused 1.8 V, or the switch failed), or null when it was not tried or was reached.</summary>
    public string? UhsNote { get; init; }

    /// <summary>The CMD6 status of the last SWITCH_FUNC (the switch, else the query), or null when no CMD6 was sent.</summary>
    public SdSwitchStatus? SwitchStatus { get; init; }

    /// <summary>The mode, its limit, the clock and the reason: "High Speed (50 MHz max, SD clock 50 MHz): card and host support it".</summary>
    public string BusSpeedText => string.Create(CultureInfo.InvariantCulture,
        $"{SdBusSpeeds.Name(BusSpeed)} ({SdBusSpeeds.MaxClockHz(BusSpeed) / 1e6:0.###} MHz max, SD clock {ClockHz / 1e6:0.###} MHz): {BusSpeedReason}");

    /// <summary>Whether read and write commands take block numbers (SDHC/SDXC) rather than byte addresses (SDSC).</summary>
    public bool BlockAddressing => Type == SdCardType.HighCapacity;

    /// <summary>User data capacity in bytes (from the CSD).</summary>
    public long CapacityBytes => Csd.CapacityBytes;

    /// <summary>Capacity in 512-byte blocks.</summary>
    public long BlockCount => Csd.BlockCount;

    /// <summary>How multi-block commands end on this card: the options' choice, with <see cref="SdBlockCountMode.Auto"/> resolved from the SCR.</summary>
    public SdBlockCountMode BlockCountMode { get; init; } = SdBlockCountMode.AutoCmd12;
}

/// <summary>
/// An SD memory card behind an <see cref="SdhciHost"/>: the identification sequence that brings it
/// to the transfer state, and block reads (and, when allowed, writes) in PIO, SDMA or ADMA2.
/// </summary>
/// <remarks>
/// <see cref="Initialize"/> runs: controller set-up at 400 kHz, CMD0, CMD8 (0x1AA, the echo
/// checked), ACMD41 with HCS and the host's voltage window until ready, CMD2 (CID), CMD3 (RCA),
/// CMD9 (CSD), CMD7 (select), CMD16 (512 bytes) on standard-capacity cards, ACMD51 (SCR), ACMD6 and
/// a 4-bit host bus when the SCR allows, then the bus speed mode (CMD6 query and switch to High Speed
/// where card and host allow, see <see cref="SelectBusSpeed"/>) and the fastest clock that mode, the
/// options and the controller's dividers allow.
/// </remarks>
/// <example>
/// <code>
/// var card = new SdCard(new SdhciHost(registers, interrupt));
/// var info = card.Initialize();
/// Console.WriteLine($"{info.Cid}\n{info.Csd}\n{info.Scr}");
/// byte[] first = card.ReadBlocks(0, 8);                                          // PIO
/// byte[] more = card.ReadBlocks(8, 64, SdhciTransferMode.Adma2, dmaMemory);      // ADMA2
/// </code>
/// </example>
public sealed class SdCard
{
    /// <summary>The block size every transfer uses.</summary>
    public const int BlockSize = 512;

    private const uint CheckPattern = 0x1AA;           // CMD8: VHS 2.7-3.6 V (0x1) and pattern 0xAA
    private const uint OcrBusy = 0x8000_0000;          // set when power-up is done
    private const uint OcrCcs = 0x4000_0000;           // card capacity status (ACMD41 answer) / HCS (ACMD41 argument)
    private const uint OcrVoltageWindow = 0x00FF_FF80;
    private const uint OcrS18 = 0x0100_0000;           // S18R in the ACMD41 argument, S18A in its answer (Physical Layer 3.01, 4.2.4.1)

    /// <summary>Wraps <paramref name="host"/>; nothing is sent until <see cref="Initialize"/>.</summary>
    /// <param name="host">The command engine.</param>
    /// <param name="options">Policies; defaults when null.</param>
    public SdCard(SdhciHost host, SdCardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        Host = host;
        Options = options ?? new SdCardOptions();
    }

    /// <summary>The command engine.</summary>
    public SdhciHost Host { get; }

    /// <summary>Policies and timeouts.</summary>
    public SdCardOptions Options { get; }

    /// <summary>What <see cref="Initialize"/> found; null before.</summary>
    public SdCardInfo? Info { get; private set; }

    /// <summary>Brings the controller up and the card to the transfer state; see the class remarks for the sequence.</summary>
    /// <returns>The card's registers, address, bus width and clock.</returns>
    /// <exception cref="SdhciException">No card, a failed command, a card that stays busy or answers wrongly.</exception>
    public SdCardInfo Initialize()
    {
        Info = null;
        // UHS-I is asked for (S18R) only when the options allow it and the host has 1.8 V and an SDR mode.
        var tryUhs = Options.MaxBusSpeed >= SdBusSpeed.Sdr50 && Host.SupportsUhs;
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

        var (speed, reason, switchStatus) = signalling18 && Host.BusWidth == 4
            ? SelectUhsMode(csd, scr)
            : SelectBusSpeed(rca, csd, scr);
        var target = Math.Min(Options.MaxClockHz, SdBusSpeeds.MaxClockHz(speed));
        // TRAN_SPEED describes Default Speed; after a switch the card runs at the mode's limit (Linux: hs_max_dtr).
        if (speed == SdBusSpeed.Default && csd.MaxTransferRateHz > 0)
            target = Math.Min(target, csd.MaxTransferRateHz);
        if (SdBusSpeeds.IsUhs(speed) || (signalling18 && speed == SdBusSpeed.High))
            Host.SetUhsMode(speed);
        else if (speed == SdBusSpeed.High)
            Host.SetHighSpeed(true);
        var clock = Host.SetClock(target);
        if (speed == SdBusSpeed.Sdr104 || (speed == SdBusSpeed.Sdr50 && Host.Capabilities.UseTuningForSdr50))
        {
            if (!Host.ExecuteTuning(out var tries))
            {
                throw new SdhciException(SdhciError.Tuning,
                    $"CMD19 (SEND_TUNING_BLOCK): sampling clock tuning for {SdBusSpeeds.Name(speed)} did not converge in {tries} tuning commands " +
                    $"(the limit is {SdhciHost.MaxTuningCommands}): Host Control 2 Sampling Clock Select stayed clear. The tuning was reset and the lines too. " +
                    "On a ZynqMP the tap delays may be wrong (see the README, \"On a real ZCU102\"); --max-speed high avoids UHS-I.", 19);
            }

            reason += string.Create(CultureInfo.InvariantCulture, $"; tuned in {tries} CMD19 (Sampling Clock Select set)");
        }
        else if (SdBusSpeeds.IsUhs(speed))
        {
            reason += "; no tuning (SDR50 without Capabilities bit 45, Use Tuning for SDR50)";
        }

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
        if (Options.MaxBusSpeed < SdBusSpeed.High)
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
    /// of SDR104 and SDR50 that the card offers, the host supports (Capabilities bits 32, 33) and the options
    /// allow; the current limit (group 4) the card offers up to the host's Maximum Current for 1.8 V (0x48 bits
    /// 23:16; 200 mA when the host does not say); driver strength (group 3) left at Type B, the default, since
    /// any other is a board's choice (Linux: fixed-drv-type). One CMD6 switch sets both; it must report them.
    /// Falls back to SDR25 (High Speed timing at 1.8 V) when the card offers neither SDR mode.
    /// </summary>
    private (SdBusSpeed Speed, string Reason, SdSwitchStatus? Status) SelectUhsMode(Csd csd, Scr scr)
    {
        if ((csd.CommandClasses & (1 << 10)) == 0 || scr.SdSpec < 1)
            return (SdBusSpeed.Default, "the card accepted 1.8 V but has no CMD6 (command class 10): SDR12", null);
        var query = SwitchFunction(SdSwitchStatus.UhsArgument(false, SdBusSpeed.Sdr104, 0xF, 0xF));
        SdBusSpeed? chosen = null;
        foreach (var mode in (ReadOnlySpan<SdBusSpeed>)[SdBusSpeed.Sdr104, SdBusSpeed.Sdr50])
        {
            var host = mode == SdBusSpeed.Sdr104 ? Host.Capabilities.Sdr104 : Host.Capabilities.Sdr50;
            if (mode <= Options.MaxBusSpeed && host && query.Supports(1, (int)mode) && !query.Busy(1, (int)mode))
            {
                chosen = mode;
                break;
            }
        }

        var speed = chosen ?? SdBusSpeed.High;
        var why = chosen is null
            ? $"the card offers no SDR50 or SDR104 the host and options allow (CMD6 group 1 supports 0x{query.Support(1):x4}): SDR25"
            : speed == SdBusSpeed.Sdr50 && Options.MaxBusSpeed < SdBusSpeed.Sdr104 ? "capped by the options (--max-speed sdr50)"
            : speed == SdBusSpeed.Sdr50 && !Host.Capabilities.Sdr104 ? "the host lacks SDR104 (Capabilities bit 33 is clear)"
            : speed == SdBusSpeed.Sdr50 ? $"the card does not offer SDR104 (CMD6 group 1 supports 0x{query.Support(1):x4})"
            : "card and host support it";

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

    /// <summary>CMD6 with its 64-byte status read through the data port (an addressed data transfer command, R1).</summary>
    private SdSwitchStatus SwitchFunction(uint argument)
    {
        var block = new byte[SdSwitchStatus.Length];
        CheckStatus(6, false, Host.SendCommand(6, argument, SdResponseType.R1,
            new SdhciDataTransfer(SdhciTransferDirection.Read, SdSwitchStatus.Length, 1, block)).Value);
        return SdSwitchStatus.Parse(block);
    }

    /// <summary>CMD13 after a command the card ignored, so its ILLEGAL_COMMAND is not reported by the next one; its own failure is not the news.</summary>
    private void TakeStaleStatus(ushort rca)
    {
        try
        {
            Host.SendCommand(13, (uint)rca << 16, SdResponseType.R1);
        }
        catch (SdhciException)
        {
        }
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

    /// <summary>CMD13: the card's status.</summary>
    /// <returns>The R1 status (see <see cref="SdCardStatus"/>).</returns>
    public uint SendStatus() => Host.SendCommand(13, (uint)RequireInfo().Rca << 16, SdResponseType.R1).Value;

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
        if (!Host.Options.AllowWrite)
            throw new InvalidOperationException("Writing the card is disabled. Writes need an explicit opt-in (SdhciHostOptions.AllowWrite, sdhci-probe --allow-write).");

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
        if (!Host.Options.AllowWrite)
            throw new InvalidOperationException("Writing the card is disabled. Writes need an explicit opt-in (SdhciHostOptions.AllowWrite, sdhci-probe --allow-write).");

        byte[]? chunk = null;
        Transfer(SdhciTransferDirection.Write, lba, count, mode, dma, progress, (done, blocks) =>
        {
            var memory = (chunk ??= new byte[blocks * BlockSize]).AsMemory(0, blocks * BlockSize);
            source(lba + done, memory.Span);
            return memory;
        }, arrived: null);
    }

    /// <summary>
    /// Why the card must not be written, or null when nothing forbids it: the slot's write-protect switch
    /// (<see cref="SdhciHost.WriteProtectSwitchSet"/>, read now), the CSD's PERM_WRITE_PROTECT (bit 13) and
    /// TMP_WRITE_PROTECT (bit 12). Every one that applies is named.
    /// </summary>
    /// <returns>The reasons, joined with "; ", or null.</returns>
    /// <exception cref="InvalidOperationException">The card is not initialized.</exception>
    public string? WriteProtection()
    {
        var info = RequireInfo();
        var reasons = new List<string>(3);
        if (Host.WriteProtectSwitchSet)
            reasons.Add("the slot's write-protect switch is set (Present State 0x24 bit 19, Write Protect Switch Pin Level, reads 0)");
        if (info.Csd.PermanentWriteProtect)
            reasons.Add("the card is permanently write-protected (CSD PERM_WRITE_PROTECT, bit 13)");
        if (info.Csd.TemporaryWriteProtect)
            reasons.Add("the card is temporarily write-protected (CSD TMP_WRITE_PROTECT, bit 12)");
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
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

        if (direction == SdhciTransferDirection.Write && WriteProtection() is { } protection)
        {
            throw new SdhciException(SdhciError.WriteProtected,
                $"write refused, nothing was sent to the card: {protection}. There is no override: slide the switch, or use another card.");
        }

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
            return Host.SendCommand(13, (uint)rca << 16, SdResponseType.R1).Value;
        }
        catch (SdhciException e) when (e.Error is not (SdhciError.CardRemoved or SdhciError.NoCard or SdhciError.ControllerNotResponding))
        {
            return null;
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
            try
            {
                Host.SendCommand(13, (uint)info.Rca << 16, SdResponseType.R1);
            }
            catch (SdhciException)
            {
            }

            throw new SdhciException(SdhciError.NotSupported,
                $"CMD23 (SET_BLOCK_COUNT): the card did not answer, and its SCR ({info.Scr.RawHex}, physical layer {info.Scr.SpecVersion}) " +
                "does not list CMD23. End multi-block commands with auto-CMD12 instead (sdhci-probe --block-count cmd12, or auto).", 23,
                interruptStatus: e.InterruptStatus);
        }

        CheckStatus(23, false, status);
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
            var status = Host.SendCommand(13, (uint)rca << 16, SdResponseType.R1).Value;
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

    private static void CheckStatus(int index, bool application, uint status)
    {
        if (((SdCardStatus)status & SdCardStatusInfo.Errors) == 0)
            return;
        throw new SdhciException(SdhciError.CardStatus,
            $"{SdCommandNames.Describe(index, application)}: the card reports {SdCardStatusInfo.DescribeErrors(status)} (card status 0x{status:x8}).",
            index, application) { CardStatus = status };
    }

    private SdCardInfo RequireInfo() => Info ?? throw new InvalidOperationException("The card is not initialized: call Initialize first.");
}
