using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Tests;

/// <summary>
/// An SD memory card's state machine, modelled on QEMU's hw/sd/sd.c (QEMU 7.2, the rig's): the same
/// CID, CSD, SCR, OCR and RCA values, the same answers, and silence (a command timeout) for a
/// command that is illegal in the current state.
/// </summary>
internal sealed class FakeSdCard
{
    // QEMU's CID (sd_set_cid): MID 0xaa, OID "XY", PNM "QEMU!", PRV 0x01, PSN 0xdeadbeef, MDT 2006-02.
    public static readonly byte[] QemuCid =
        [0xaa, (byte)'X', (byte)'Y', (byte)'Q', (byte)'E', (byte)'M', (byte)'U', (byte)'!', 0x01, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x62, 0x01];

    // QEMU's CSD for a 64 MiB standard-capacity card (sd_set_csd): TRAN_SPEED 0x32 (25 MHz), C_SIZE 255, C_SIZE_MULT 7, READ_BL_LEN 9.
    public static readonly byte[] QemuCsd64MiB =
        [0x00, 0x26, 0x00, 0x32, 0x5f, 0x59, 0xe0, 0x3f, 0xff, 0xff, 0xdf, 0xff, 0x92, 0x60, 0x00, 0x01];

    // QEMU's SCR (sd_set_scr, spec 2.00 card): structure 1.0, SD_SPEC 2, security 2, bus widths 1 and 4.
    public static readonly byte[] QemuScr = [0x02, 0x25, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];

    public const ushort QemuRca = 0x4567;
    public const uint QemuOcr = 0x00ff_ff00;
    public const long Qemu64MiB = 64L * 1024 * 1024;

    private readonly Dictionary<long, byte[]> _written = [];
    private uint _pendingErrors;
    private int _busyPollsLeft;

    public FakeSdCard(long capacityBytes = Qemu64MiB, bool highCapacity = false)
    {
        CapacityBytes = capacityBytes;
        HighCapacity = highCapacity;
        Csd = highCapacity ? SdhcCsd(capacityBytes) : QemuCsd64MiB;
        Reset();
    }

    public long CapacityBytes { get; }

    public bool HighCapacity { get; }

    public byte[] Cid { get; init; } = QemuCid;

    public byte[] Csd { get; set; }

    public byte[] Scr { get; init; } = QemuScr;

    /// <summary>
    /// CMD23 (SET_BLOCK_COUNT) is taken, as QEMU's card does from spec_version 3 on (whatever its SCR
    /// says: QEMU never lists CMD23 there). Without it CMD23 goes unanswered (illegal).
    /// </summary>
    public bool AcceptsCmd23 { get; init; }

    /// <summary>The block count set by the last CMD23, used up by the next multi-block command (QEMU: multi_blk_cnt).</summary>
    public uint PendingBlockCount { get; private set; }

    /// <summary>A physical layer 1.x card: CMD8 goes unanswered.</summary>
    public bool Version1 { get; init; }

    /// <summary>CMD8 echoes a wrong check pattern.</summary>
    public bool BadCmd8Echo { get; set; }

    /// <summary>ACMD41 answers busy this many times before ready (QEMU: 0; real cards: a few).</summary>
    public int BusyPolls { get; set; } = 2;

    /// <summary>ACMD41 never reports ready.</summary>
    public bool NeverReady { get; set; }

    /// <summary>Card status error bits to report in the next R1 of a data command.</summary>
    public SdCardStatus NextDataCommandStatusErrors { get; set; }

    public SdCardState State { get; private set; }

    public ushort Rca { get; private set; }

    public uint Ocr { get; private set; }

    public int BusWidth { get; private set; } = 1;

    public int BlockLength { get; private set; } = 512;

    public List<uint> Acmd41Arguments { get; } = [];

    /// <summary>CMD6 (SWITCH_FUNC) is answered, as QEMU's card does in the transfer state. Without it CMD6 goes unanswered (illegal).</summary>
    public bool AnswersCmd6 { get; init; } = true;

    /// <summary>Function group 1's support bits in the CMD6 status: QEMU's 0x8003 (default and High Speed); 0x8001 for a card without High Speed.</summary>
    public ushort Group1Support { get; init; } = 0x8003;

    /// <summary>The card answers every CMD6 for group 1 with 0xF (cannot switch), as a card whose function is unavailable does.</summary>
    public bool RefusesSwitch { get; init; }

    /// <summary>The query (mode 0) offers High Speed but the switch (mode 1) answers 0xF, as a card that changed its mind would.</summary>
    public bool FailsSwitchOnly { get; init; }

    /// <summary>A CMD6 switch (mode 1) to this group 1 function is answered with 0xF (cannot), whatever the card offers; settable mid-test.</summary>
    public int? RefusedFunction { get; set; }

    /// <summary>Status structure version 1 with High Speed busy (bits 287:272).</summary>
    public bool HighSpeedBusy { get; init; }

    /// <summary>The group 1 function the card runs: 0 Default Speed, 1 High Speed after a CMD6 switch.</summary>
    public int AccessMode { get; private set; }

    /// <summary>A UHS-I card: ACMD41 with S18R gets S18A, CMD11 starts the voltage switch, CMD19 sends the tuning block at 1.8 V.</summary>
    public bool Accepts18V { get; init; }

    /// <summary>The card answers CMD11 but never releases DAT[3:0] after the switch (a failed switch).</summary>
    public bool VoltageSwitchFails { get; init; }

    /// <summary>Function group 4's (current limit) support bits: 0x8001 (200 mA only) unless given.</summary>
    public ushort Group4Support { get; init; } = 0x8001;

    /// <summary>Between CMD11 and the end of the switch: the card holds DAT[3:0] low.</summary>
    public bool SwitchingVoltage { get; private set; }

    /// <summary>The card signals at 1.8 V (until power goes).</summary>
    public bool Signalling18V { get; private set; }

    /// <summary>The controller restarted the clock at 1.8 V: a good card releases DAT[3:0] now.</summary>
    public void ClockRestartedAt18V()
    {
        if (!SwitchingVoltage || VoltageSwitchFails)
            return;
        SwitchingVoltage = false;
        Signalling18V = true;
    }

    /// <summary>Bus power went off: back to 3.3 V signalling and the idle state.</summary>
    public void PowerCycle()
    {
        SwitchingVoltage = false;
        Signalling18V = false;
        _s18Granted = false;
        Reset();
    }

    private bool _s18Granted;

    /// <summary>CMD19s answered.</summary>
    public int TuningBlocksSent { get; private set; }

    /// <summary>Every CMD6 argument, in order.</summary>
    public List<uint> Cmd6Arguments { get; } = [];

    /// <summary>The 4-bit tuning block pattern (Physical Layer 3.01, 4.2.4.5, Table 4-2).</summary>
    public static readonly byte[] TuningPattern =
    [
        0xff, 0x0f, 0xff, 0x00, 0xff, 0xcc, 0xc3, 0xcc, 0xc3, 0x3c, 0xcc, 0xff, 0xfe, 0xff, 0xfe, 0xef,
        0xff, 0xdf, 0xff, 0xdd, 0xff, 0xfb, 0xff, 0xfb, 0xbf, 0xff, 0x7f, 0xff, 0x77, 0xf7, 0xbd, 0xef,
        0xff, 0xf0, 0xff, 0xf0, 0x0f, 0xfc, 0xcc, 0x3c, 0xcc, 0x33, 0xcc, 0xcf, 0xff, 0xef, 0xff, 0xee,
        0xff, 0xfd, 0xff, 0xfd, 0xdf, 0xff, 0xbf, 0xff, 0xbb, 0xff, 0xf7, 0xff, 0xf7, 0x7f, 0x7b, 0xde,
    ];

    public byte[] ReadImageBlock(long lba) => _written.TryGetValue(lba, out var block) ? block : CardImage.Block(lba);

    private void Reset()
    {
        State = SdCardState.Idle;
        Rca = 0;
        Ocr = QemuOcr;
        BusWidth = 1;
        BlockLength = 512;
        AccessMode = 0;
        _busyPollsLeft = BusyPolls;
    }

    /// <summary>An eMMC in the idle state: CMD1 (SEND_OP_COND) answers R3 with <see cref="MmcOcr"/>; CMD8, CMD55 and ACMD41 get nothing.</summary>
    public bool Mmc { get; init; }

    /// <summary>The OCR an <see cref="Mmc"/> device answers CMD1 with: 2.7-3.6 V and 1.70-1.95 V, sector mode, busy (bit 31 clear).</summary>
    public const uint MmcOcr = 0x40FF_8080;

    /// <summary>Answers no command (CMD0 has no response to miss): a dead card, or an unknown device.</summary>
    public bool Mute { get; init; }

    /// <summary>Runs a command; null means no response (the host sees a command timeout).</summary>
    public CardReply? Execute(int index, uint argument, bool application)
    {
        if (Mute)
            return index == 0 && !application ? new CardReply(SdResponseType.None) : null;
        if (Mmc)
            return index == 0 ? new CardReply(SdResponseType.None) : index == 1 && !application ? new CardReply(SdResponseType.R3, MmcOcr) : null;
        var reply = application ? Application(index, argument) : Normal(index, argument);
        if (reply is null)
            _pendingErrors |= (uint)SdCardStatus.IllegalCommand;
        return reply;
    }

    private bool AddressedToMe(uint argument) => argument >> 16 == Rca;

    private CardReply? Normal(int index, uint argument)
    {
        switch (index)
        {
            case 0:
                Reset();
                return new CardReply(SdResponseType.None);
            case 8:
                if (Version1 || State != SdCardState.Idle || ((argument >> 8) & 0xF) != 1)
                    return null;
                return new CardReply(SdResponseType.R7, BadCmd8Echo ? (argument & 0xF00) | 0x55 : argument & 0xFFF);
            case 55:
                if (State is SdCardState.Standby or SdCardState.Transfer && !AddressedToMe(argument))
                    return null;
                return new CardReply(SdResponseType.R1, Status() | (uint)SdCardStatus.AppCmd);
            case 2:
                if (State != SdCardState.Ready)
                    return null;
                State = SdCardState.Identification;
                return new CardReply(SdResponseType.R2, Long: Cid);
            case 3:
                if (State is not (SdCardState.Identification or SdCardState.Standby))
                    return null;
                var status = Status();                           // R1 and R6 report the state the command found
                State = SdCardState.Standby;
                Rca = QemuRca;
                var r6Status = ((status >> 8) & 0xC000) | ((status >> 6) & 0x2000) | (status & 0x1FFF);
                return new CardReply(SdResponseType.R6, ((uint)Rca << 16) | r6Status);
            case 9:
                if (State != SdCardState.Standby || !AddressedToMe(argument))
                    return null;
                return new CardReply(SdResponseType.R2, Long: Csd);
            case 7:
                if (State != SdCardState.Standby || !AddressedToMe(argument))
                    return null;
                var selected = Status();
                State = SdCardState.Transfer;
                return new CardReply(SdResponseType.R1b, selected);
            case 13:
                if (!AddressedToMe(argument) || State is SdCardState.Idle or SdCardState.Ready or SdCardState.Identification)
                    return null;
                return new CardReply(SdResponseType.R1, Status());
            case 16:
                if (State != SdCardState.Transfer)
                    return null;
                BlockLength = (int)argument;
                return new CardReply(SdResponseType.R1, Status());
            case 12:
                if (State is not (SdCardState.SendingData or SdCardState.ReceivingData))
                    return null;
                var stopped = Status();
                State = SdCardState.Transfer;
                return new CardReply(SdResponseType.R1b, stopped);
            case 6:
                if (!AnswersCmd6 || State != SdCardState.Transfer)
                    return null;
                return SwitchFunction(argument);
            case 11:
                if (!_s18Granted || State != SdCardState.Ready)
                    return null;
                _s18Granted = false;
                SwitchingVoltage = true;
                return new CardReply(SdResponseType.R1, Status());
            case 19:
                if (!Signalling18V || State != SdCardState.Transfer)
                    return null;
                TuningBlocksSent++;
                State = SdCardState.SendingData;
                return new CardReply(SdResponseType.R1, Status(), Data: new CardData(true, 64, (_, _) =>
                {
                    State = SdCardState.Transfer;
                    return TuningPattern;
                }, null));
            case 23:
                if (!AcceptsCmd23 || State != SdCardState.Transfer)
                    return null;
                PendingBlockCount = argument;
                return new CardReply(SdResponseType.R1, Status());
            case 17 or 18 or 24 or 25:
                return Block(index, argument);
            default:
                return null;
        }
    }

    private CardReply? Application(int index, uint argument)
    {
        switch (index)
        {
            case 41:
                if (State != SdCardState.Idle)
                    return null;
                Acmd41Arguments.Add(argument);
                if ((argument & 0x00FF_FFFF) != 0 && (argument & Ocr & 0x00FF_FF00) != 0 && !NeverReady && _busyPollsLeft-- <= 0)
                {
                    Ocr |= 0x8000_0000 | (HighCapacity && (argument & 0x4000_0000) != 0 ? 0x4000_0000u : 0);
                    // S18A only to a host that asked (S18R) and only at 3.3 V (Physical Layer 3.01, 4.2.4.1).
                    if (Accepts18V && (argument & 0x0100_0000) != 0 && (argument & 0x4000_0000) != 0 && !Signalling18V)
                    {
                        Ocr |= 0x0100_0000;
                        _s18Granted = true;
                    }

                    State = SdCardState.Ready;
                }

                return new CardReply(SdResponseType.R3, Ocr);
            case 6:
                if (State != SdCardState.Transfer)
                    return null;
                BusWidth = (argument & 3) == 2 ? 4 : 1;
                return new CardReply(SdResponseType.R1, Status() | (uint)SdCardStatus.AppCmd);
            case 51:
                if (State != SdCardState.Transfer)
                    return null;
                var status = Status() | (uint)SdCardStatus.AppCmd;
                State = SdCardState.SendingData;
                return new CardReply(SdResponseType.R1, status, Data: new CardData(true, 8, (block, size) =>
                {
                    State = SdCardState.Transfer;
                    return Scr;
                }, null));
            default:
                return null;
        }
    }

    private CardReply? Block(int index, uint argument)
    {
        if (State != SdCardState.Transfer)
            return null;
        var address = HighCapacity ? (long)argument * 512 : argument;
        var status = Status();
        if (!HighCapacity && address % 512 != 0)
            status |= (uint)SdCardStatus.AddressError;
        if (address >= CapacityBytes)
            status |= (uint)SdCardStatus.OutOfRange;
        status |= (uint)NextDataCommandStatusErrors;
        NextDataCommandStatusErrors = 0;
        var multiple = index is 18 or 25;
        var read = index is 17 or 18;
        var first = address / 512;
        // After CMD23 the card stops by itself after that many blocks (no CMD12 needed).
        var last = multiple && PendingBlockCount != 0 ? (long)PendingBlockCount - 1 : multiple ? long.MaxValue : 0;
        if (multiple)
            PendingBlockCount = 0;
        State = read ? SdCardState.SendingData : SdCardState.ReceivingData;
        var data = read
            ? new CardData(true, 512, (block, size) =>
            {
                if (block >= last)
                    State = SdCardState.Transfer;
                return ReadImageBlock(first + block);
            }, null)
            : new CardData(false, 512, null, (block, bytes) =>
            {
                _written[first + block] = bytes;
                if (block >= last)
                    State = SdCardState.Transfer;
            });
        return new CardReply(SdResponseType.R1, status, Data: data);
    }

    /// <summary>
    /// CMD6 as QEMU 7.2's sd_function_switch answers it: a maximum current of 0x0001, each group's
    /// support bits (group 1 from <see cref="Group1Support"/>), the requested function of each group echoed
    /// in bits 399:376 (0xF where the card cannot), the rest 0; mode 1 also switches group 1.
    /// </summary>
    private CardReply SwitchFunction(uint argument)
    {
        Cmd6Arguments.Add(argument);
        var status = Status();
        var block = new byte[64];
        block[1] = 0x01;
        for (var group = 2; group <= 6; group++)
        {
            block[12 - ((group - 1) * 2)] = 0x80;
            block[13 - ((group - 1) * 2)] = 0x01;
        }

        block[11] = 0x43;                                // QEMU's group 2 (command system): 0x8043
        // The UHS-I functions (SDR50, SDR104, DDR50) are offered only once the card signals at 1.8 V.
        var group1 = Signalling18V ? Group1Support : (ushort)(Group1Support & 0x8003);
        block[12] = (byte)(group1 >> 8);
        block[13] = (byte)group1;
        block[6] = (byte)(Group4Support >> 8);           // group 4 (current limit): bits 463:448
        block[7] = (byte)Group4Support;
        for (var group = 1; group <= 6; group++)
        {
            var function = (int)(argument >> ((group - 1) * 4)) & 0xF;
            if (group == 1 && function != 0xF && (RefusesSwitch || (FailsSwitchOnly && (argument & 0x8000_0000) != 0) || (group1 & (1 << function)) == 0
                || ((argument & 0x8000_0000) != 0 && function == RefusedFunction)))
                function = 0xF;
            if (group == 4 && function != 0xF && (Group4Support & (1 << function)) == 0)
                function = 0xF;
            var nibble = group - 1;
            block[16 - (nibble / 2)] |= (byte)(function << ((nibble % 2) * 4));
        }

        var selected = block[16] & 0xF;
        if ((argument & 0x8000_0000) != 0 && selected != 0xF)
            AccessMode = selected;
        if (HighSpeedBusy)
        {
            block[17] = 1;
            block[29] = 0x02;
        }

        State = SdCardState.SendingData;
        return new CardReply(SdResponseType.R1, status, Data: new CardData(true, 64, (_, _) =>
        {
            State = SdCardState.Transfer;
            return block;
        }, null));
    }

    private uint Status()
    {
        var status = ((uint)State << 9) | (State == SdCardState.Transfer ? (uint)SdCardStatus.ReadyForData : 0) | _pendingErrors;
        _pendingErrors = 0;
        return status;
    }

    private static byte[] SdhcCsd(long capacityBytes)
    {
        // QEMU's CSD 2.0 (sd_set_csd, SDHC branch): C_SIZE = capacity / 512 KiB - 1 in bits 69:48.
        var size = (capacityBytes / (512 * 1024)) - 1;
        return [0x40, 0x0e, 0x00, 0x32, 0x5b, 0x59, 0x00, (byte)(size >> 16), (byte)(size >> 8), (byte)size, 0x7f, 0x80, 0x0a, 0x40, 0x00, 0x01];
    }
}
