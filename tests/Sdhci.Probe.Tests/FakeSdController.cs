using System.Buffers.Binary;
using Sdhci.Probe.Sdhci;
using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Tests;

/// <summary>
/// A register-level model of an SD host controller with a <see cref="FakeSdCard"/> behind it, close
/// to QEMU's hw/sd/sdhci.c: a 16-bit write of the Command register runs the command and sets the
/// response registers and interrupt status (latched only where the status enable allows, signalled
/// where the signal enable allows); PIO data goes through 0x20 one block per Buffer Read/Write Ready;
/// SDMA and ADMA2 (32-bit, 64-bit with 96-bit descriptors as QEMU's SDHC_CTRL_ADMA2_64, and version 4
/// mode's 128-bit descriptors) copy between the card and <see cref="FakeDmaMemory"/> regions attached to
/// its "bus". Faults can be injected, and every touch of the data port outside a PIO data phase is
/// counted as a violation.
/// </summary>
internal sealed class FakeSdController : RegisterBusModel
{
    private readonly record struct Fault(SdhciInterrupt Error, ushort AutoCmdStatus, bool RemoveCard, bool Completes = false);

    private readonly Dictionary<(FakePhase, int, bool), Queue<Fault>> _faults = [];
    private int _dataIndex;
    private bool _issuingApplication;

    private const int StatusOffset = 0x30;
    private const uint ErrorSummary = 1u << 15;

    private readonly byte[] _regs;
    private readonly List<FakeDmaMemory> _bus = [];
    private uint _status;
    private bool _application;

    // The data phase in progress.
    private CardData? _data;
    private int _blockSize;
    private int _blocksLeft;
    private int _blockIndex;
    private bool _multiple;
    private bool _autoCmd12;
    private byte[]? _pioBlock;
    private int _pioOffset;
    private bool _pioBufferReady;
    private bool _cardGone;
    private ulong _sdmaAddress;
    private int _sdmaOffsetInBlock;
    private bool _sdmaPaused;
    private byte[] _sdmaBlock = [];

    public FakeSdController(ulong capabilities, ushort version, int length, FakeSdCard? card = null)
        : base(length)
    {
        _regs = new byte[length];
        Capabilities = capabilities;
        Version = version;
        Card = card ?? new FakeSdCard();
        PowerOnDefaults();
    }

    /// <summary>QEMU's xlnx-zcu102 Arasan controller: caps 0x280737ec6481 (100 MHz, 3.3/3.0/1.8 V, ADMA2, SDMA, 64-bit), version 0x2402 (3.00).</summary>
    public static FakeSdController Zcu102(FakeSdCard? card = null) => new(0x280737ec6481, 0x2402, 0x1000, card);

    /// <summary>QEMU's sdhci-pci: caps 0x057834b4 (52 MHz, 3.3/1.8 V, ADMA2, SDMA), version 0x2401 (2.00), a 0x100-byte BAR.</summary>
    public static FakeSdController SdhciPci(FakeSdCard? card = null) => new(0x057834b4, 0x2401, 0x100, card);

    public ulong Capabilities { get; }

    public ushort Version { get; }

    public FakeSdCard Card { get; set; }

    // ---- what tests look at --------------------------------------------------------------------

    /// <summary>Ordered events shared with <see cref="FakeInterrupt"/>: "fire:STATUS", "clear:BITS", "ack", "cmd:N", "reset:BITS".</summary>
    public List<string> Log { get; } = [];

    /// <summary>Every command the card saw: index, argument, whether it was an application command.</summary>
    public List<(int Index, uint Argument, bool Application)> Commands { get; } = [];

    /// <summary>Software Reset values written.</summary>
    public List<SdhciReset> Resets { get; } = [];

    /// <summary>32-bit reads of the data port during a PIO read data phase, with a block in the buffer.</summary>
    public int DataPortReads { get; private set; }

    /// <summary>Reads of 0x20 to 0x23 at any other time or with another width: each would have consumed or corrupted card data.</summary>
    public int DataPortViolations { get; private set; }

    /// <summary>Values the host wrote to the SDMA System Address register, in order.</summary>
    public List<uint> SdmaAddressWrites { get; } = [];

    /// <summary>Every ADMA2 descriptor fetched: attribute, length, address.</summary>
    public List<(ushort Attribute, int Length, ulong Address)> AdmaDescriptors { get; } = [];

    /// <summary>The size of the ADMA2 descriptors last fetched: 8, 12 or 16 bytes.</summary>
    public int AdmaDescriptorSize { get; private set; }

    /// <summary>32-bit writes of the ADMA System Address register's upper half (0x5C).</summary>
    public int AdmaHighAddressWrites { get; private set; }

    /// <summary>Host Control 2 (0x3E).</summary>
    public ushort HostControl2 => Reg16(0x3E);

    /// <summary>The interrupt line: a latched status bit whose signal is enabled.</summary>
    public bool LineAsserted => (_status & Reg32(0x38)) != 0;

    public uint InterruptStatus => _status;

    public byte HostControl1 => _regs[0x28];

    public byte PowerControl => _regs[0x29];

    public ushort ClockControl => Reg16(0x2C);

    // ---- what tests inject ---------------------------------------------------------------------

    public bool CardInserted { get; set; } = true;

    public bool ResetNeverCompletes { get; set; }

    public bool ClockNeverStable { get; set; }

    /// <summary>Commands are accepted but nothing is ever raised, and Command Inhibit (CMD) stays set.</summary>
    public bool CompletionNeverArrives { get; set; }

    /// <summary>Command Inhibit (CMD) reads set, as if a command never ended.</summary>
    public bool CommandInhibitStuck { get; set; }

    /// <summary>The next data phase fails with this error status instead of moving data.</summary>
    public SdhciInterrupt NextDataError { get; set; }

    /// <summary>ADMA descriptor fetches fail (as if the table were unreachable).</summary>
    public bool AdmaFault { get; set; }

    /// <summary>QEMU from 6.0 on (its CVE-2021-3409 fix): an SDMA System Address written while a transfer
    /// is in progress is ignored, so a transfer paused at a buffer boundary never resumes.</summary>
    public bool SdmaResumeIgnored { get; set; }

    /// <summary>Every register reads all ones, as a clock-gated controller on a real ZynqMP does.</summary>
    public bool Dead { get; set; }

    /// <summary>The slot's write-protect switch is on: Present State bit 19 (Write Protect Switch Pin Level) reads 0.</summary>
    public bool WriteProtectSwitch { get; set; }

    /// <summary>Execute Tuning clears with Sampling Clock Select set after this many CMD19s; null: never by itself.</summary>
    public int? TuningConvergesAfter { get; set; } = 3;

    /// <summary>With <see cref="TuningConvergesAfter"/> null: the controller gives up at 40 CMD19s (Execute Tuning cleared, Sampling Clock Select clear), as the spec says; otherwise it never clears Execute Tuning.</summary>
    public bool TuningGivesUpAt40 { get; set; } = true;

    /// <summary>CMD19s taken in tuning mode.</summary>
    public int TuningCommands { get; private set; }

    /// <summary>Data port accesses while Execute Tuning was set (the tuning block is the controller's, never read).</summary>
    public int TuningDataPortAccesses { get; private set; }

    /// <summary>The Maximum Current Capabilities register (0x48).</summary>
    public uint MaximumCurrent
    {
        get => _maxCurrent;
        set
        {
            _maxCurrent = value;
            SetReg32(0x48, value);
        }
    }

    private uint _maxCurrent;

    /// <summary>Data phases started so far (each data command's, the SCR's included).</summary>
    public int DataPhases { get; private set; }

    private readonly Dictionary<int, SdhciInterrupt> _dataPhaseErrors = [];

    /// <summary>The data phase numbered <paramref name="phase"/> (1 = the first, see <see cref="DataPhases"/>) fails with <paramref name="error"/>.</summary>
    public void FailDataPhase(int phase, SdhciInterrupt error) => _dataPhaseErrors[phase] = error;

    public void Attach(FakeDmaMemory memory) => _bus.Add(memory);

    /// <summary>Makes the next <paramref name="times"/> runs of the command fail with <paramref name="error"/> instead of reaching the card.</summary>
    public void InjectCommandError(int index, SdhciInterrupt error, bool application = false, int times = 1) =>
        Inject(FakePhase.Command, index, error, times, application);

    /// <summary>
    /// The next <paramref name="times"/> runs of command <paramref name="index"/> fail at <paramref name="phase"/> with
    /// <paramref name="error"/> (any error bits, raised as given; ADMA Error also sets ADMA Error Status ST_TFR). For
    /// <see cref="FakePhase.AutoCmd12"/> give the Auto CMD Error Status bits in <paramref name="autoCmdStatus"/>.
    /// </summary>
    public void Inject(FakePhase phase, int index, SdhciInterrupt error, int times = 1, bool application = false, ushort autoCmdStatus = 0)
    {
        for (var i = 0; i < times; i++)
            Queue(phase, index, application).Enqueue(new Fault(error, autoCmdStatus, false));
    }

    /// <summary>The card is pulled when command <paramref name="index"/> reaches <paramref name="phase"/>: Card Inserted falls, Card Removal is raised.</summary>
    public void RemoveCardDuring(FakePhase phase, int index, bool application = false) =>
        Queue(phase, index, application).Enqueue(new Fault(SdhciInterrupt.None, 0, true));

    /// <summary>
    /// QEMU's removal (measured with `rig run --eject-card-on`): the card is pulled as the data phase of command
    /// <paramref name="index"/> starts, Card Inserted falls and Card Removal is raised, yet the transfer runs on to
    /// Transfer Complete: QEMU 7.2's sd.c answers every data byte of a card without medium with 0x00 (and drops
    /// the bytes written), its sdhci.c moves them as if the card were there. <paramref name="after"/> runs of the
    /// command go through untouched first.
    /// </summary>
    public void RemoveCardDuringDataButComplete(int index, int after = 0)
    {
        var queue = Queue(FakePhase.Data, index, false);
        for (var i = 0; i < after; i++)
            queue.Enqueue(new Fault(SdhciInterrupt.None, 0, false));
        queue.Enqueue(new Fault(SdhciInterrupt.None, 0, true, Completes: true));
    }

    /// <summary>Injected faults not yet used, in all phases.</summary>
    public int FaultsLeft => _faults.Values.Sum(q => q.Count);

    private Queue<Fault> Queue(FakePhase phase, int index, bool application)
    {
        if (!_faults.TryGetValue((phase, index, application), out var queue))
            _faults[(phase, index, application)] = queue = new Queue<Fault>();
        return queue;
    }

    private bool Take(FakePhase phase, int index, bool application, out Fault fault)
    {
        fault = default;
        return _faults.TryGetValue((phase, index, application), out var queue) && queue.TryDequeue(out fault);
    }

    /// <summary>Card Inserted (0x24 bit 16) falls and Card Removal (0x30 bit 7) is raised, as a real slot's card-detect does.</summary>
    private void PullCard()
    {
        CardInserted = false;
        Raise(SdhciInterrupt.CardRemoval);
    }

    // ---- IRegisterBus ----------------------------------------------------------------------------

    // The base checked bounds and alignment. SDHCI registers are 32 bits wide at most.
    protected override ulong Read(int offset, int width)
    {
        if (width == 8)
            throw new InvalidOperationException($"A 64-bit access at 0x{offset:x}: SDHCI registers are 32 bits wide at most.");
        if (Dead)
            return width == 4 ? uint.MaxValue : (1u << (width * 8)) - 1;
        if (offset is >= 0x20 and < 0x24)
            return ReadDataPort(width);
        var aligned = offset & ~3;
        var word = aligned switch
        {
            0x24 => PresentState(),
            StatusOffset => _status,
            _ => Reg32(aligned),
        };
        var shifted = word >> ((offset - aligned) * 8);
        return width == 4 ? shifted : shifted & ((1u << (width * 8)) - 1);
    }

    protected override void Write(int offset, int width, ulong wide)
    {
        if (width == 8)
            throw new InvalidOperationException($"A 64-bit access at 0x{offset:x}: SDHCI registers are 32 bits wide at most.");
        var value = (uint)wide;
        if (Dead)
            return;
        if (offset is >= StatusOffset and < StatusOffset + 4)
        {
            var bits = value << ((offset - StatusOffset) * 8);
            Log.Add($"clear:{bits:x8}");
            _status &= ~(bits & ~ErrorSummary);
            UpdateErrorSummary();
            return;
        }

        if (offset is >= 0x20 and < 0x24)
        {
            WriteDataPort(width, value);
            return;
        }

        if (offset is >= 0x10 and < 0x20 or >= 0x24 and < 0x28 or >= 0x40 and < 0x50 or >= 0xFC and < 0x100)
            return; // read-only

        for (var i = 0; i < width; i++)
            _regs[offset + i] = (byte)(value >> (i * 8));

        if (Covers(offset, width, 0x2F))
            SoftwareReset(_regs[0x2F]);
        if (Covers(offset, width, 0x2C))
            UpdateClock();
        if (Covers(offset, width, 0x3E) && (Capabilities & (1UL << 26)) == 0)
            _regs[0x3E] &= unchecked((byte)~0x08);             // no 1.8 V supply: 1.8V Signaling Enable does not stick
        if (Covers(offset, width, 0x29) && (_regs[0x29] & 1) == 0)
            Card.PowerCycle();
        if (Covers(offset, width, 0x2C))
            Log.Add($"clk:{Reg16(0x2C):x4}");
        if (Covers(offset, width, 0x3E))
            Log.Add($"hc2:{HostControl2:x4}");
        if (Covers(offset, width, 0x2C) || Covers(offset, width, 0x3E))
            VoltageSwitchProgress();
        if (Covers(offset, width, 0x0F))
            IssueCommand();
        if (offset == 0x00 && width == 4 && !Version4)
            SdmaAddressWritten(value);
        if (Covers(offset, width, 0x5C))
            AdmaHighAddressWrites++;
        if (offset == 0x5C && Version4)
            SdmaAddressWritten(Reg32(0x58), value);
    }

    private static bool Covers(int offset, int width, int register) => offset <= register && register < offset + width;

    // ---- registers ------------------------------------------------------------------------------

    private uint Reg32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_regs.AsSpan(offset));

    private ushort Reg16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(_regs.AsSpan(offset));

    private void SetReg32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_regs.AsSpan(offset), value);

    private void PowerOnDefaults()
    {
        Array.Clear(_regs);
        BinaryPrimitives.WriteUInt64LittleEndian(_regs.AsSpan(0x40), Capabilities);
        BinaryPrimitives.WriteUInt16LittleEndian(_regs.AsSpan(0xFE), Version);
        SetReg32(0x48, _maxCurrent);
        _status = 0;
        StopData();
    }

    private uint PresentState()
    {
        uint present = 0;
        if (CommandInhibitStuck)
            present |= 1;
        if (_data is not null)
            present |= 2 | 4 | (_data.Read ? 1u << 9 : 1u << 8);
        if (_pioBufferReady)
            present |= _data!.Read ? 1u << 11 : 1u << 10;
        if (CardInserted)
            present |= (1u << 16) | (1u << 17) | (1u << 18);
        // Write enabled unless switched; DAT[3:0] high unless a card switching its voltage holds them low; CMD high.
        present |= (WriteProtectSwitch ? 0 : 1u << 19) | (Card.SwitchingVoltage ? 0 : 0xFu << 20) | (1u << 24);
        return present;
    }

    private void Raise(SdhciInterrupt bits)
    {
        _status |= (uint)bits & Reg32(0x34);
        UpdateErrorSummary();
    }

    private void UpdateErrorSummary()
    {
        if ((_status & 0xFFFF_0000) != 0)
            _status |= ErrorSummary;
        else
            _status &= ~ErrorSummary;
    }

    private void SoftwareReset(byte value)
    {
        Resets.Add((SdhciReset)value);
        Log.Add($"reset:{value:x2}");
        if (ResetNeverCompletes)
            return;
        if ((value & 1) != 0)
        {
            PowerOnDefaults();
            Card.PowerCycle();                                  // Reset For All turns bus power off
            return;
        }

        if ((value & 4) != 0)
            StopData();
        _regs[0x2F] = 0;
    }

    /// <summary>A card switching to 1.8 V finishes when the host has 1.8 V signalling on and the SD clock running.</summary>
    private void VoltageSwitchProgress()
    {
        if ((HostControl2 & 0x08) != 0 && (Reg16(0x2C) & 4) != 0)
            Card.ClockRestartedAt18V();
    }

    private void UpdateClock()
    {
        var clock = Reg16(0x2C);
        if ((clock & 1) != 0 && !ClockNeverStable)
            clock |= 2;
        else
            clock &= unchecked((ushort)~2);
        BinaryPrimitives.WriteUInt16LittleEndian(_regs.AsSpan(0x2C), clock);
    }

    // ---- commands -------------------------------------------------------------------------------

    private void IssueCommand()
    {
        var command = Reg16(0x0E);
        var index = (command >> 8) & 0x3F;
        var responseSelect = command & 3;
        var crcCheck = (command & 0x08) != 0;
        var indexCheck = (command & 0x10) != 0;
        var dataPresent = (command & 0x20) != 0;
        var argument = Reg32(0x08);
        var application = _application;
        _application = false;
        _issuingApplication = application;
        Log.Add($"cmd:{index}");

        // QEMU's sdhci_can_issue_command: nothing happens without a running SD clock, or on a busy line.
        if ((Reg16(0x2C) & 7) != 7)
            return;
        if (CommandInhibitStuck || (_data is not null && (dataPresent || responseSelect == 3)))
            return;
        if (CompletionNeverArrives)
        {
            CommandInhibitStuck = true;
            return;
        }

        Commands.Add((index, argument, application));
        if ((_regs[0x29] & 1) == 0 || !CardInserted)
        {
            Raise(SdhciInterrupt.CommandTimeoutError);
            return;
        }

        if (Take(FakePhase.Command, index, application, out var fault))
        {
            if (fault.RemoveCard)
                PullCard();
            Raise(fault.RemoveCard ? SdhciInterrupt.CommandTimeoutError : fault.Error);
            return;
        }

        var reply = Card.Execute(index, argument, application);
        if (reply is null)
        {
            Raise(SdhciInterrupt.CommandTimeoutError);
            return;
        }

        if (Take(FakePhase.Response, index, application, out fault))
        {
            // The card took the command (a data command is now sending or receiving); only its response is bad.
            if (index == 55)
                _application = true;
            if (fault.RemoveCard)
                PullCard();
            else
                Raise(fault.Error);
            return;
        }

        if (index == 55)
            _application = true;

        var expected = reply.Kind switch
        {
            SdResponseType.None => 0,
            SdResponseType.R2 => 1,
            SdResponseType.R1b => 3,
            _ => 2,
        };
        if (responseSelect != expected && !(reply.Kind == SdResponseType.R1b && responseSelect == 2))
            throw new InvalidOperationException($"CMD{index}: the host asked for response select {responseSelect}; the card sends {reply.Kind}.");

        // R3 carries all ones where CRC and index would be: checking them fails on real hardware.
        if (reply.Kind == SdResponseType.R3 && (crcCheck || indexCheck))
        {
            Raise(crcCheck ? SdhciInterrupt.CommandCrcError : SdhciInterrupt.CommandIndexError);
            return;
        }

        if (reply.Kind == SdResponseType.R2 && indexCheck)
        {
            Raise(SdhciInterrupt.CommandIndexError);
            return;
        }

        SetResponse(reply);
        Raise(SdhciInterrupt.CommandComplete);
        if (reply.Kind == SdResponseType.R1b && !dataPresent)
            Raise(SdhciInterrupt.TransferComplete); // end of busy, as QEMU signals it

        if (index == 19 && (HostControl2 & 0x40) != 0 && reply.Data is not null)
        {
            Tune(reply.Data);
            return;
        }

        if (reply.Data is not null)
        {
            if (!dataPresent)
                throw new InvalidOperationException($"CMD{index} moves data but Data Present Select is clear.");
            StartData(index, reply.Data);
        }
        else if (dataPresent)
        {
            throw new InvalidOperationException($"CMD{index} moves no data but Data Present Select is set.");
        }
    }

    /// <summary>One CMD19 in tuning mode: the controller takes the block itself and raises Buffer Read Ready.</summary>
    private void Tune(CardData data)
    {
        data.ReadBlock!(0, 64);
        TuningCommands++;
        if (TuningConvergesAfter is { } needed && TuningCommands >= needed)
            _regs[0x3E] = (byte)((_regs[0x3E] & ~0x40) | 0x80);       // Execute Tuning cleared, Sampling Clock Select set
        else if (TuningConvergesAfter is null && TuningGivesUpAt40 && TuningCommands >= 40)
            _regs[0x3E] = (byte)(_regs[0x3E] & ~0xC0);                 // gave up: both clear
        Raise(SdhciInterrupt.BufferReadReady);
    }

    private void SetResponse(CardReply reply)
    {
        if (reply.Kind == SdResponseType.None)
            return;
        if (reply.Kind == SdResponseType.R2)
        {
            // QEMU sdhci_send_command: the 15 bytes before the CRC, the first three in the top register's low 24 bits.
            var r = reply.Long!;
            SetReg32(0x10, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(11)));
            SetReg32(0x14, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(7)));
            SetReg32(0x18, BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(3)));
            SetReg32(0x1C, ((uint)r[0] << 16) | ((uint)r[1] << 8) | r[2]);
            return;
        }

        SetReg32(0x10, reply.Value);
        SetReg32(0x14, 0);
        SetReg32(0x18, 0);
        SetReg32(0x1C, 0);
    }

    // ---- data -----------------------------------------------------------------------------------

    private void StartData(int index, CardData data)
    {
        var transferMode = Reg16(0x0C);
        _blockSize = Reg16(0x04) & 0xFFF;
        _multiple = (transferMode & 0x20) != 0;
        var blockCountEnable = (transferMode & 0x02) != 0;
        var read = (transferMode & 0x10) != 0;
        _autoCmd12 = ((transferMode >> 2) & 3) == 1;
        if (read != data.Read)
            throw new InvalidOperationException($"CMD{index}: Transfer Mode says {(read ? "read" : "write")}, the command does the opposite.");
        if (data.RequiredBlockSize is { } size && size != _blockSize)
            throw new InvalidOperationException($"CMD{index}: block size {_blockSize}, the card sends {size}-byte blocks.");
        if (_multiple && !blockCountEnable)
            throw new InvalidOperationException($"CMD{index}: multi-block without Block Count Enable would never end.");
        _blocksLeft = _multiple ? Reg16(0x06) : 1;
        if (_blocksLeft == 0)
            throw new InvalidOperationException($"CMD{index}: block count 0.");
        _blockIndex = 0;
        _data = data;
        _dataIndex = index;
        if (_dataPhaseErrors.Remove(++DataPhases, out var planned))
            NextDataError = planned;
        if (Take(FakePhase.Data, index, _issuingApplication, out var fault))
        {
            if (fault.RemoveCard && fault.Completes)
            {
                PullCard();                                   // QEMU's way: the blocks move on, as zeros
                _cardGone = true;
            }
            else if (fault.RemoveCard)
            {
                PullCard();                                   // no completion will come: the data phase hangs as on real hardware
                return;
            }

            NextDataError = fault.Error;
            if ((fault.Error & SdhciInterrupt.AdmaError) != 0)
                _regs[0x54] = 3;                              // ST_TFR; 0x58 keeps the table address the host wrote
        }

        if (NextDataError != SdhciInterrupt.None)
        {
            // The card sends its block regardless (a single-block command ends there); the controller flags the error.
            if (!_multiple && data.Read)
                data.ReadBlock!(0, _blockSize);
            Raise(NextDataError);
            NextDataError = SdhciInterrupt.None;
            return;
        }

        var dma = (transferMode & 1) != 0;
        var dmaSelect = (_regs[0x28] >> 3) & 3;
        if (!dma)
        {
            LoadPioBlock();
            return;
        }

        switch (dmaSelect)
        {
            case 0:
                _sdmaAddress = Version4 ? Reg64(0x58) : Reg32(0x00);
                _sdmaOffsetInBlock = 0;
                RunSdma();
                break;
            case 2:
                RunAdma2(Version4 && (HostControl2 & (1 << 13)) != 0 ? 16 : 8);
                break;
            case 3 when !Version4:
                // QEMU's sdhci_data_transfer: SDHC_CTRL_ADMA2_64 needs ADMA2 and the 64-bit bus in the capabilities.
                if ((Capabilities & (1UL << 19)) == 0 || (Capabilities & (1UL << 28)) == 0)
                    throw new InvalidOperationException("64-bit ADMA2 selected on a controller without 64-bit system bus support (QEMU: \"64 bit ADMA not supported\", no transfer).");
                RunAdma2(12);
                break;
            default:
                throw new InvalidOperationException($"DMA Select {dmaSelect} is not modelled (SDMA and ADMA2 only).");
        }
    }

    private void LoadPioBlock()
    {
        _pioBlock = _data!.Read ? CardBlock() : new byte[_blockSize];
        _pioOffset = 0;
        _pioBufferReady = true;
        Raise(_data.Read ? SdhciInterrupt.BufferReadReady : SdhciInterrupt.BufferWriteReady);
    }

    private byte[] Fit(byte[] block) => block.Length == _blockSize
        ? block
        : throw new InvalidOperationException($"The card sent {block.Length} bytes for a {_blockSize}-byte block.");

    private uint ReadDataPort(int width)
    {
        if ((HostControl2 & 0x40) != 0)
            TuningDataPortAccesses++;
        if (width != 4 || _data is not { Read: true } || !_pioBufferReady)
        {
            DataPortViolations++;
            return 0xDEADBEEF;
        }

        DataPortReads++;
        var word = BinaryPrimitives.ReadUInt32LittleEndian(_pioBlock.AsSpan(_pioOffset));
        _pioOffset += 4;
        if (_pioOffset == _blockSize)
            BlockDone(_pioBlock!);
        return word;
    }

    private void WriteDataPort(int width, uint value)
    {
        if (width != 4 || _data is not { Read: false } || !_pioBufferReady)
        {
            DataPortViolations++;
            return;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_pioBlock.AsSpan(_pioOffset), value);
        _pioOffset += 4;
        if (_pioOffset == _blockSize)
            BlockDone(_pioBlock!);
    }

    /// <summary>One block moved: on to the next, or the end of the transfer.</summary>
    private void BlockDone(byte[] block)
    {
        _pioBufferReady = false;
        if (!_data!.Read)
            if (!_cardGone)
                _data.WriteBlock!(_blockIndex, block);
        _blockIndex++;
        _blocksLeft--;
        if (_blocksLeft > 0)
        {
            if (_pioBlock is not null)
                LoadPioBlock();
            return;
        }

        EndTransfer();
    }

    private void EndTransfer()
    {
        if (_multiple && _autoCmd12)
        {
            if (Take(FakePhase.AutoCmd12, _dataIndex, false, out var fault))
            {
                // Auto CMD Timeout: CMD12 never reached the card, which keeps sending or receiving; CRC,
                // end bit, index: the card stopped but its response was bad (SD Host Controller 3.00, 3.10.2).
                if ((fault.AutoCmdStatus & 0x02) == 0)
                    Card.Execute(12, 0, false);
                Commands.Add((12, 0, false));
                BinaryPrimitives.WriteUInt16LittleEndian(_regs.AsSpan(0x3C), fault.AutoCmdStatus);
                StopData();
                Raise(SdhciInterrupt.TransferComplete | (fault.Error == SdhciInterrupt.None ? SdhciInterrupt.AutoCmdError : fault.Error));
                return;
            }

            var stop = Card.Execute(12, 0, false);
            SetReg32(0x1C, stop?.Value ?? 0);
            Commands.Add((12, 0, false));
        }

        StopData();
        Raise(SdhciInterrupt.TransferComplete);
    }

    private void StopData()
    {
        _data = null;
        _pioBlock = null;
        _pioBufferReady = false;
        _sdmaPaused = false;
        _cardGone = false;
    }

    /// <summary>The next block the card sends; zeros once it was pulled the QEMU way (sd_read_byte of a card without medium).</summary>
    private byte[] CardBlock() => _cardGone ? new byte[_blockSize] : Fit(_data!.ReadBlock!(_blockIndex, _blockSize));

    private void RunSdma()
    {
        var boundary = 4096u << ((Reg16(0x04) >> 12) & 7);
        while (_blocksLeft > 0)
        {
            if (_sdmaOffsetInBlock == 0)
                _sdmaBlock = _data!.Read ? CardBlock() : new byte[_blockSize];
            var chunk = (int)Math.Min((ulong)(_blockSize - _sdmaOffsetInBlock), boundary - (_sdmaAddress % boundary));
            var memory = Find(_sdmaAddress, chunk) ?? throw new InvalidOperationException($"SDMA to 0x{_sdmaAddress:x}: no memory there.");
            var at = (int)(_sdmaAddress - memory.DeviceAddress);
            if (_data!.Read)
                _sdmaBlock.AsSpan(_sdmaOffsetInBlock, chunk).CopyTo(memory.Memory.AsSpan(at));
            else
                memory.Memory.AsSpan(at, chunk).CopyTo(_sdmaBlock.AsSpan(_sdmaOffsetInBlock));
            _sdmaAddress += (uint)chunk;
            _sdmaOffsetInBlock += chunk;
            if (_sdmaOffsetInBlock == _blockSize)
            {
                _sdmaOffsetInBlock = 0;
                if (!_data.Read)
                    if (!_cardGone)
                        _data.WriteBlock!(_blockIndex, _sdmaBlock);
                _blockIndex++;
                _blocksLeft--;
            }

            if (_blocksLeft > 0 && _sdmaAddress % boundary == 0)
            {
                SetReg32(0x00, (uint)_sdmaAddress);
                _sdmaPaused = true;
                Raise(SdhciInterrupt.DmaInterrupt);
                return;
            }
        }

        EndTransfer();
    }

    /// <summary>Host Control 2 bit 12, Host Version 4 Enable (taken only from a 4.00 controller, as the register is reserved before).</summary>
    private bool Version4 => (Version & 0xFF) >= 3 && (HostControl2 & (1 << 12)) != 0;

    private ulong Reg64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(_regs.AsSpan(offset));

    /// <summary>Version 4 mode: 0x58 and 0x5C also carry SDMA addresses (recorded here when they fit 32 bits; ADMA2 tables above 4 GiB are not SDMA).</summary>
    private void SdmaAddressWritten(uint low, uint high)
    {
        if (high == 0)
            SdmaAddressWritten(low);
        else if (_sdmaPaused)
            throw new InvalidOperationException("The fake's SDMA resume takes 32-bit addresses only.");
    }

    private void SdmaAddressWritten(uint value)
    {
        SdmaAddressWrites.Add(value);
        if (!_sdmaPaused || SdmaResumeIgnored)
            return;
        _sdmaPaused = false;
        _sdmaAddress = value;
        RunSdma();
    }

    /// <summary>
    /// ADMA2 with descriptors of <paramref name="size"/> bytes: 8 (32-bit: only 0x58 counts), 12 (QEMU's
    /// ADMA2_64: attribute, length, 64-bit address at byte 4) or 16 (version 4: the same and 4 reserved bytes).
    /// </summary>
    private void RunAdma2(int size)
    {
        AdmaDescriptorSize = size;
        var descriptor = size == 8 ? Reg32(0x58) : Reg64(0x58);
        var current = _data!.Read ? CardBlock() : new byte[_blockSize];
        var inBlock = 0;
        while (true)
        {
            var table = AdmaFault ? null : Find(descriptor, size);
            if (table is null)
            {
                AdmaFailed(descriptor, 1);
                return;
            }

            var entry = table.Memory.AsSpan((int)(descriptor - table.DeviceAddress), size);
            var attribute = BinaryPrimitives.ReadUInt16LittleEndian(entry);
            var length = BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]) is var l and not 0 ? l : 65536;
            var address = size == 8 ? BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]) : BinaryPrimitives.ReadUInt64LittleEndian(entry[4..]);
            if (size == 16 && BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]) != 0)
                throw new InvalidOperationException("The reserved bits 127:96 of a 128-bit ADMA2 descriptor are not 0.");
            AdmaDescriptors.Add((attribute, length, address));
            if ((attribute & 1) == 0)
            {
                AdmaFailed(descriptor, 1);
                return;
            }

            var action = (attribute >> 4) & 3;
            if (action == 3)
            {
                descriptor = address;
                continue;
            }

            if (action == 2)
            {
                var memory = Find(address, length);
                if (memory is null)
                {
                    AdmaFailed(descriptor, 3);
                    return;
                }

                var at = (int)(address - memory.DeviceAddress);
                var moved = 0;
                while (moved < length && _blocksLeft > 0)
                {
                    var chunk = Math.Min(length - moved, _blockSize - inBlock);
                    if (_data.Read)
                        current.AsSpan(inBlock, chunk).CopyTo(memory.Memory.AsSpan(at + moved));
                    else
                        memory.Memory.AsSpan(at + moved, chunk).CopyTo(current.AsSpan(inBlock));
                    moved += chunk;
                    inBlock += chunk;
                    if (inBlock == _blockSize)
                    {
                        if (!_data.Read)
                            if (!_cardGone)
                                _data.WriteBlock!(_blockIndex, current);
                        _blockIndex++;
                        _blocksLeft--;
                        inBlock = 0;
                        if (_blocksLeft > 0)
                            current = _data.Read ? CardBlock() : new byte[_blockSize];
                    }
                }
            }

            if ((attribute & 2) != 0)
            {
                if (_blocksLeft > 0)
                {
                    AdmaFailed(descriptor, 4 | 1); // the table ended before the blocks did: length mismatch
                    return;
                }

                EndTransfer();
                return;
            }

            descriptor += (ulong)size;
        }
    }

    private void AdmaFailed(ulong descriptor, byte state)
    {
        _regs[0x54] = state;
        BinaryPrimitives.WriteUInt64LittleEndian(_regs.AsSpan(0x58), descriptor);
        Raise(SdhciInterrupt.AdmaError);
    }

    private FakeDmaMemory? Find(ulong address, int length) => _bus.FirstOrDefault(m => m.Contains(address, length));
}
