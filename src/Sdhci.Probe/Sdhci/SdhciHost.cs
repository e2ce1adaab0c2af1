using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;
using R = Sdhci.Probe.Sdhci.SdhciRegisters;

namespace Sdhci.Probe.Sdhci;

/// <summary>The Software Reset register's (0x2F) three resets.</summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1028:Enum storage should be Int32", Justification = "Mirrors the 8-bit register.")]
public enum SdhciReset : byte
{
    /// <summary>The whole controller except card detection: registers to their defaults, power and clock off.</summary>
    All = 1,

    /// <summary>The command state machine, after a command error.</summary>
    CommandLine = 2,

    /// <summary>The data path, buffer and DMA, after a data error.</summary>
    DataLine = 4,
}

/// <summary>The SD bus supply voltage, with the Power Control register's (0x29) select codes as values.</summary>
public enum SdhciBusVoltage
{
    /// <summary>Bus power off.</summary>
    Off = 0,

    /// <summary>1.8 V.</summary>
    V18 = 5,

    /// <summary>3.0 V.</summary>
    V30 = 6,

    /// <summary>3.3 V.</summary>
    V33 = 7,
}

/// <summary>The ADMA2 descriptor format a controller gets (SD Host Controller 4.10, 1.13.4, Figures 1-13 and 1-14).</summary>
public enum SdhciAdma2Format
{
    /// <summary>32-bit addresses, 64-bit (8-byte) descriptors; Host Control 1 DMA Select 0b10. Data and table below 4 GiB.</summary>
    Address32,

    /// <summary>64-bit addresses, 96-bit (12-byte) descriptors; DMA Select 0b11 (version 3 mode, Capabilities bit 28).</summary>
    Address64,

    /// <summary>64-bit addresses, 128-bit (16-byte) descriptors; DMA Select 0b10 with Host Control 2 bits 12 and 13 (version 4 mode, Capabilities bit 27).</summary>
    Address64V4,
}

/// <summary>
/// The SDHCI command engine: resets, bus power, SD clock, bus width, and commands with their data
/// phases (PIO through the data port, SDMA, ADMA2), interrupt-driven through an
/// <see cref="ISdhciInterrupt"/>, with a timeout on every wait and a typed
/// <see cref="SdhciException"/> for every failure.
/// </summary>
/// <remarks>
/// <para>
/// Every interrupt is serviced the VFIO way: wait, read Normal and Error Interrupt Status (0x30, one
/// 32-bit read), write the set bits back to clear them, then <see cref="ISdhciInterrupt.Acknowledge"/>.
/// Bits that arrive before they are waited for (Transfer Complete together with Command Complete)
/// are remembered, not lost.
/// </para>
/// <para>
/// The buffer data port (0x20) is read only inside a PIO read's data phase, after Buffer Read Ready,
/// exactly one block at a time. After a command or data error the CMD (and DAT) line is reset, as
/// Linux's <c>sdhci.c</c> does, so the next command starts clean.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var host = new SdhciHost(registers, new PollingInterrupt());
/// host.Initialize();                                               // reset, interrupts, 3.3 V, 400 kHz
/// host.SendCommand(0, 0, SdResponseType.None);                     // CMD0
/// var r7 = host.SendCommand(8, 0x1AA, SdResponseType.R7);          // CMD8
/// var ocr = host.SendApplicationCommand(0, 41, 0x40300000, SdResponseType.R3).Value;
/// </code>
/// </example>
public sealed class SdhciHost
{
    /// <summary>Bytes one ADMA2 descriptor moves at most here (the field allows 65535; a power of two keeps blocks whole).</summary>
    public const int MaxAdma2DescriptorLength = 32 * 1024;

    /// <summary>Size of one 32-bit ADMA2 descriptor: attribute (16 bits), length (16), address (32).</summary>
    public const int Adma2DescriptorSize = 8;

    /// <summary>Size of one 96-bit ADMA2 descriptor (64-bit addressing, version 3 mode): attribute, length, address (64 bits).</summary>
    public const int Adma2Descriptor96Size = 12;

    /// <summary>Size of one 128-bit ADMA2 descriptor (64-bit addressing, version 4 mode): the 96-bit one and 32 reserved bits.</summary>
    public const int Adma2Descriptor128Size = 16;

    /// <summary>The SDMA buffer boundary this engine programs (Block Size bits 14:12 = 7): the controller pauses at every 512 KiB.</summary>
    public const int SdmaBoundary = 512 * 1024;

    /// <summary>The interrupts the engine enables (status and signal): completions, PIO buffer, DMA, and every error it maps.</summary>
    /// <remarks>Card Removal is among them so a card pulled mid-transfer ends the wait at once, not after the data timeout.</remarks>
    public const SdhciInterrupt HandledInterrupts =
        I.CommandComplete | I.TransferComplete | I.DmaInterrupt | I.BufferWriteReady | I.BufferReadReady | I.CardRemoval | CommandErrors | DataErrors;

    private const I CommandErrors = I.CommandTimeoutError | I.CommandCrcError | I.CommandEndBitError | I.CommandIndexError;
    private const I DataErrors = I.DataTimeoutError | I.DataCrcError | I.DataEndBitError | I.CurrentLimitError | I.AutoCmdError | I.AdmaError;
    private const I AllErrors = (I)0xFFFF_0000u;
    private const I NotClearable = I.CardInterrupt | I.ErrorInterrupt;
    private const ushort AdmaValid = 0x01;
    private const ushort AdmaEnd = 0x02;
    private const ushort AdmaTransfer = 0x20;
    private const int SdmaBoundaryField = 7;
    private const int DmaDataAlignment = 4096;

    private readonly IRegisterIo _io;
    private readonly ISdhciInterrupt _interrupt;
    private I _latched;

    /// <summary>Creates the engine and reads the controller's version and capabilities; nothing is written.</summary>
    /// <param name="io">The controller's registers.</param>
    /// <param name="interrupt">Its interrupt, or a <see cref="PollingInterrupt"/>.</param>
    /// <param name="options">Timeouts and policies; defaults when null.</param>
    /// <exception cref="ArgumentException">The window is smaller than the standard register block.</exception>
    public SdhciHost(IRegisterIo io, ISdhciInterrupt interrupt, SdhciHostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(interrupt);
        if (io.Length < R.StandardBlockLength)
            throw new ArgumentException($"The register window is 0x{io.Length:x} bytes; an SDHCI controller has 0x{R.StandardBlockLength:x}.", nameof(io));
        _io = io;
        _interrupt = interrupt;
        Options = options ?? new SdhciHostOptions();
        Version = new SdhciHostVersion((ushort)io.Read(R.HostControllerVersion));
        Capabilities = new SdhciCapabilities(io.Read(R.Capabilities), Version.SpecVersion);
        Version4Mode = Options.HostVersion4Mode && Version.SpecVersion >= SdhciSpecVersion.Version400;
        // As Linux's sdhci_setup_host: in version 4 mode 64-bit addressing needs bit 27, otherwise
        // 64-bit ADMA2 needs bit 28 (64-bit System Bus Support); both only with ADMA2 itself.
        Adma2Format = !Options.Allow64BitDma ? SdhciAdma2Format.Address32
            : Version4Mode ? (Capabilities.SystemBus64BitV4 ? SdhciAdma2Format.Address64V4 : SdhciAdma2Format.Address32)
            : Capabilities.SystemBus64Bit ? SdhciAdma2Format.Address64
            : SdhciAdma2Format.Address32;
    }

    /// <summary>Whether <see cref="Initialize"/> enables Host Version 4 mode (the option, on a 4.00 or later controller).</summary>
    public bool Version4Mode { get; }

    /// <summary>The ADMA2 descriptors this engine builds, chosen from the capabilities and the options when created.</summary>
    public SdhciAdma2Format Adma2Format { get; }

    /// <summary>The size of one descriptor of <see cref="Adma2Format"/>: 8, 12 or 16 bytes.</summary>
    public int Adma2DescriptorLength => DescriptorLength(Adma2Format);

    /// <summary>Whether SDMA takes 64-bit addresses: only in version 4 mode with 64-bit addressing.</summary>
    private bool Sdma64 => Adma2Format == SdhciAdma2Format.Address64V4;

    /// <summary>The size of one descriptor of <paramref name="format"/>.</summary>
    /// <param name="format">The format.</param>
    /// <returns>8, 12 or 16.</returns>
    public static int DescriptorLength(SdhciAdma2Format format) => format switch
    {
        SdhciAdma2Format.Address64 => Adma2Descriptor96Size,
        SdhciAdma2Format.Address64V4 => Adma2Descriptor128Size,
        _ => Adma2DescriptorSize,
    };

    /// <summary>How reports name <paramref name="format"/>: "32-bit", "64-bit", "64-bit (v4)".</summary>
    /// <param name="format">The format.</param>
    /// <returns>The name.</returns>
    public static string Describe(SdhciAdma2Format format) => format switch
    {
        SdhciAdma2Format.Address64 => "64-bit",
        SdhciAdma2Format.Address64V4 => "64-bit (v4)",
        _ => "32-bit",
    };

    /// <summary>Timeouts and policies.</summary>
    public SdhciHostOptions Options { get; }

    /// <summary>The Host Controller Version register, read when the engine was created.</summary>
    public SdhciHostVersion Version { get; }

    /// <summary>The Capabilities register, read when the engine was created.</summary>
    public SdhciCapabilities Capabilities { get; }

    /// <summary>The base clock: <see cref="SdhciHostOptions.BaseClockHz"/> when given, else the capabilities' (0 when neither says).</summary>
    public long BaseClockHz => Options.BaseClockHz ?? Capabilities.BaseClockHz;

    /// <summary>The SD clock last set by <see cref="SetClock"/>, 0 while stopped.</summary>
    public long ClockHz { get; private set; }

    /// <summary>The data bus width last set: 1, 4 or 8.</summary>
    public int BusWidth { get; private set; } = 1;

    /// <summary>The bus voltage last set by <see cref="PowerOn"/>.</summary>
    public SdhciBusVoltage Voltage { get; private set; }

    /// <summary>
    /// The OCR voltage window that matches <see cref="Voltage"/>, to offer the card in ACMD41:
    /// bits 20 and 21 (3.2 to 3.4 V) at 3.3 V, bits 17 and 18 (2.9 to 3.1 V) at 3.0 V.
    /// </summary>
    public uint HostOcrMask => Voltage switch
    {
        SdhciBusVoltage.V33 => 0x0030_0000,
        SdhciBusVoltage.V30 => 0x0006_0000,
        _ => 0,
    };

    /// <summary>Whether Present State (0x24) says a card is inserted.</summary>
    public bool CardPresent => R.PresentStateFields.CardInserted.IsSet(_io.Read(R.PresentState));

    /// <summary>
    /// Whether the slot's write-protect switch marks the card read-only: Present State (0x24) bit 19,
    /// Write Protect Switch Pin Level, reads 0. This is how Linux's <c>sdhci_get_ro</c> reads it on hosts
    /// without a <c>get_ro</c> callback, a write-protect GPIO or the inverted-write-protect quirk.
    /// </summary>
    public bool WriteProtectSwitchSet => !R.PresentStateFields.WriteProtectPinLevel.IsSet(_io.Read(R.PresentState));

    /// <summary>The bytes of DMA memory an ADMA2 transfer puts before the data (the descriptor table, page aligned); 0 for SDMA and PIO.</summary>
    /// <param name="mode">The transfer mode.</param>
    /// <param name="length">Bytes to move.</param>
    /// <param name="descriptorLength">The size of one descriptor (<see cref="Adma2DescriptorLength"/> of the host); 8 when not given.</param>
    /// <returns>The offset of the data in the DMA memory.</returns>
    public static int DmaDataOffset(SdhciTransferMode mode, int length, int descriptorLength = Adma2DescriptorSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (descriptorLength is not (Adma2DescriptorSize or Adma2Descriptor96Size or Adma2Descriptor128Size))
            throw new ArgumentOutOfRangeException(nameof(descriptorLength), descriptorLength, "ADMA2 descriptors are 8, 12 or 16 bytes.");
        if (mode != SdhciTransferMode.Adma2)
            return 0;
        var table = Adma2DescriptorCount(length) * descriptorLength;
        return (table + DmaDataAlignment - 1) / DmaDataAlignment * DmaDataAlignment;
    }

    /// <summary>The DMA memory a transfer of <paramref name="length"/> bytes needs: descriptor table (ADMA2) and data.</summary>
    /// <param name="mode">The transfer mode.</param>
    /// <param name="length">Bytes to move.</param>
    /// <param name="descriptorLength">The size of one descriptor (<see cref="Adma2DescriptorLength"/> of the host); 8 when not given.</param>
    /// <returns>Bytes of DMA memory; 0 for PIO.</returns>
    public static int RequiredDmaLength(SdhciTransferMode mode, int length, int descriptorLength = Adma2DescriptorSize) =>
        mode == SdhciTransferMode.Pio ? 0 : DmaDataOffset(mode, length, descriptorLength) + length;

    /// <summary><see cref="RequiredDmaLength(SdhciTransferMode, int, int)"/> with this host's descriptor format.</summary>
    /// <param name="mode">The transfer mode.</param>
    /// <param name="length">Bytes to move.</param>
    /// <returns>Bytes of DMA memory; 0 for PIO.</returns>
    public int RequiredDmaLengthFor(SdhciTransferMode mode, int length) => RequiredDmaLength(mode, length, Adma2DescriptorLength);

    private static int Adma2DescriptorCount(int length) => Math.Max(1, (length + MaxAdma2DescriptorLength - 1) / MaxAdma2DescriptorLength);

    /// <summary>
    /// Brings the controller to identification state: Software Reset For All, interrupts enabled,
    /// maximum data timeout, bus power (3.3 V if offered), 1-bit bus, the identification clock
    /// (400 kHz), then a pause for the card's power ramp.
    /// </summary>
    /// <exception cref="SdhciException">The controller does not answer, does not reset, has no usable voltage or clock.</exception>
    public void Initialize()
    {
        var caps = _io.Read(R.Capabilities);
        var version = _io.Read(R.HostControllerVersion);
        if (caps == ulong.MaxValue || (caps == 0 && version == 0))
        {
            throw new SdhciException(SdhciError.ControllerNotResponding,
                $"The controller's Capabilities read 0x{caps:x16} and its version 0x{version:x4}: it is not answering. " + SdhciHealth.DeadControllerAdvice);
        }

        Reset(SdhciReset.All);
        if (Version4Mode)
        {
            // Version 4 mode before anything else uses DMA (SD Host Controller 4.10, 3.2.2); the reset cleared it.
            var control2 = R.HostControl2Fields.HostVersion4Enable.Insert(_io.Read(R.HostControl2), 1);
            control2 = R.HostControl2Fields.Addressing64Bit.Insert(control2, Adma2Format == SdhciAdma2Format.Address64V4 ? 1UL : 0);
            _io.Write(R.HostControl2, control2);
        }

        EnableInterrupts();
        _io.Write(R.TimeoutControl, 0x0E);
        PowerOn();
        SetBusWidth(1);
        SetClock(Options.IdentificationClockHz);
        Pause(Options.PowerUpDelay);
    }

    /// <summary>Resets part or all of the controller and waits for the bits to clear.</summary>
    /// <param name="what">Which resets.</param>
    /// <exception cref="SdhciException"><see cref="SdhciError.ResetTimeout"/> when the bits stay set.</exception>
    public void Reset(SdhciReset what)
    {
        if (what == 0)
            throw new ArgumentOutOfRangeException(nameof(what), "Name at least one reset.");
        _io.Write(R.SoftwareReset, (byte)what);
        if (!PollUntil(() => (_io.Read(R.SoftwareReset) & (byte)what) == 0, Options.ResetTimeout))
        {
            throw new SdhciException(SdhciError.ResetTimeout,
                $"Software Reset ({what}) did not finish within {Format(Options.ResetTimeout)}: Software Reset (0x2F) still reads 0x{_io.Read(R.SoftwareReset):x2}. " +
                "The controller is not running; its clock may be gated.");
        }

        if (what.HasFlag(SdhciReset.All))
        {
            ClockHz = 0;
            HighSpeed = false;
            BusWidth = 1;
            Voltage = SdhciBusVoltage.Off;
        }

        _latched = I.None;
    }

    /// <summary>
    /// Enables the status and signal of <see cref="HandledInterrupts"/> (0x34 and 0x38, 32 bits each, as
    /// the kernel writes them) and clears anything already latched.
    /// </summary>
    public void EnableInterrupts()
    {
        _io.Write32(R.NormalInterruptStatusEnable.Offset, (uint)HandledInterrupts);
        _io.Write32(R.NormalInterruptSignalEnable.Offset, (uint)HandledInterrupts);
        _io.Write32(R.NormalInterruptStatus.Offset, ~(uint)NotClearable);
        _latched = I.None;
    }

    /// <summary>Turns bus power on at 3.3 V, or 3.0 V when the controller has no 3.3 V, then pauses for the card's power ramp.</summary>
    /// <returns>The voltage chosen.</returns>
    /// <exception cref="SdhciException"><see cref="SdhciError.NoUsableVoltage"/> when the capabilities offer neither.</exception>
    public SdhciBusVoltage PowerOn()
    {
        var voltage = Capabilities.Voltage33 ? SdhciBusVoltage.V33
            : Capabilities.Voltage30 ? SdhciBusVoltage.V30
            : throw new SdhciException(SdhciError.NoUsableVoltage,
                $"The controller offers no 3.3 V or 3.0 V supply (Capabilities 0x{Capabilities.Raw:x16}); SD cards start at 2.7 to 3.6 V.");
        var select = R.PowerControlFields.SdBusVoltageSelect.Insert(0, (ulong)voltage);
        _io.Write(R.PowerControl, select);                                      // the voltage first, then power, as sdhci.c does
        _io.Write(R.PowerControl, R.PowerControlFields.SdBusPower.Insert(select, 1));
        Voltage = voltage;
        Pause(Options.PowerUpDelay);
        return voltage;
    }

    /// <summary>Stops the SD clock and turns bus power off.</summary>
    public void PowerOff()
    {
        _io.Write(R.ClockControl, 0);
        _io.Write(R.PowerControl, 0);
        ClockHz = 0;
        Voltage = SdhciBusVoltage.Off;
    }

    /// <summary>
    /// Sets the SD clock to the fastest divided clock not above <paramref name="targetHz"/>: stop the
    /// clock, program the divider with Internal Clock Enable, wait for Internal Clock Stable, then
    /// enable the SD clock.
    /// </summary>
    /// <param name="targetHz">The highest acceptable SD clock.</param>
    /// <returns>The SD clock now running.</returns>
    /// <exception cref="SdhciException">No base clock is known, or the internal clock never becomes stable.</exception>
    public long SetClock(long targetHz)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetHz);
        var baseHz = BaseClockHz;
        if (baseHz <= 0)
        {
            throw new SdhciException(SdhciError.NoBaseClock,
                "The capabilities give no base clock (bits 15:8 are 0), so no divider can be computed: give the controller's base clock " +
                "(SdhciHostOptions.BaseClockHz; the device tree's clock-frequency or the SoC manual has it).");
        }

        _io.Write(R.ClockControl, 0);
        var divider = SdhciClock.DividerFor(baseHz, targetHz, Version.SpecVersion);
        var clock = R.ClockControlFields.InternalClockEnable.Insert(SdhciClock.EncodeDivider(divider), 1);
        _io.Write(R.ClockControl, clock);
        if (!PollUntil(() => R.ClockControlFields.InternalClockStable.IsSet(_io.Read(R.ClockControl)), Options.ClockStableTimeout))
        {
            throw new SdhciException(SdhciError.ClockNotStable,
                $"Internal Clock Stable never came within {Format(Options.ClockStableTimeout)} (Clock Control 0x{_io.Read(R.ClockControl):x4}).");
        }

        clock = R.ClockControlFields.SdClockEnable.Insert(clock, 1);
        _io.Write(R.ClockControl, clock);
        ClockHz = SdhciClock.SdClockHz(baseHz, (ushort)clock, Version.SpecVersion);
        return ClockHz;
    }

    /// <summary>Whether Host Control 1 High Speed Enable (bit 2) is set, as <see cref="SetHighSpeed"/> last left it.</summary>
    public bool HighSpeed { get; private set; }

    /// <summary>
    /// Sets or clears High Speed Enable (Host Control 1 bit 2) with the SD clock stopped, as the SD Host
    /// Controller specification asks for a timing change (3.00, 2.2.11 and 3.2); the caller then sets the
    /// clock (<see cref="SetClock"/>), which starts it again. The card must have switched first (CMD6).
    /// </summary>
    /// <param name="enable">High Speed timing (outputs on the rising edge, up to 50 MHz) or Default Speed.</param>
    /// <exception cref="SdhciException"><see cref="SdhciError.NotSupported"/>: enabling it on a controller without High Speed Support (Capabilities bit 21).</exception>
    public void SetHighSpeed(bool enable)
    {
        if (enable && !Capabilities.HighSpeed)
            throw new SdhciException(SdhciError.NotSupported, "The controller has no High Speed support (Capabilities bit 21 is clear).");
        var clock = _io.Read(R.ClockControl);
        _io.Write(R.ClockControl, R.ClockControlFields.SdClockEnable.Insert(clock, 0));
        var control = R.HostControl1Fields.HighSpeedEnable.Insert(_io.Read(R.HostControl1), enable ? 1UL : 0);
        _io.Write(R.HostControl1, control);
        HighSpeed = enable;
        ClockHz = 0;
    }

    /// <summary>
    /// Whether the host can run UHS-I: 1.8 V support (Capabilities bit 26) and SDR50 or SDR104 (bits 32 and 33),
    /// on a 3.00 or later controller, where Host Control 2 exists.
    /// </summary>
    public bool SupportsUhs => Version.SpecVersion >= SdhciSpecVersion.Version300 && Capabilities.Voltage18 && (Capabilities.Sdr50 || Capabilities.Sdr104);

    /// <summary>The Maximum Current Capabilities register (0x48): per supply voltage, in 4 mA steps (bits 23:16 for 1.8 V).</summary>
    public uint MaximumCurrent => (uint)_io.Read(R.MaximumCurrent);

    /// <summary>Whether Host Control 2's 1.8V Signaling Enable (bit 3) is set.</summary>
    public bool Signalling18V => R.HostControl2Fields.SignalingEnable18V.IsSet(_io.Read(R.HostControl2));

    /// <summary>DAT[3:0] Line Signal Level, Present State (0x24) bits 23:20: 0xF when the card leaves all four high.</summary>
    public int DatLineLevels => (int)R.PresentStateFields.DatLineSignalLevel.Extract(_io.Read(R.PresentState));

    /// <summary>Stops or restarts the SD clock (Clock Control bit 2), keeping the divider and the internal clock.</summary>
    /// <param name="enable">Whether the card gets a clock.</param>
    public void EnableSdClock(bool enable)
    {
        var clock = _io.Read(R.ClockControl);
        _io.Write(R.ClockControl, R.ClockControlFields.SdClockEnable.Insert(clock, enable ? 1UL : 0));
    }

    /// <summary>
    /// Sets or clears 1.8V Signaling Enable (Host Control 2 bit 3) and reads it back: a host whose regulator
    /// cannot switch leaves it clear (SD Host Controller 3.00, 3.6.1, step 8).
    /// </summary>
    /// <param name="enable">1.8 V signalling, or 3.3 V.</param>
    /// <returns>Whether the bit reads as asked.</returns>
    public bool SetSignalling18V(bool enable)
    {
        var control2 = R.HostControl2Fields.SignalingEnable18V.Insert(_io.Read(R.HostControl2), enable ? 1UL : 0);
        _io.Write(R.HostControl2, control2);
        return Signalling18V == enable;
    }

    /// <summary>
    /// Selects a UHS-I mode on the host with the SD clock stopped (SD Host Controller 3.00, Host Control 2 UHS
    /// Mode Select: 1 SDR25, 2 SDR50, 3 SDR104), and High Speed Enable with it, as Linux's <c>sdhci_set_ios</c> does for
    /// every timing above Default Speed. The caller then sets the clock (<see cref="SetClock"/>).
    /// </summary>
    /// <param name="speed">High (SDR25 at 1.8 V), SDR50 or SDR104.</param>
    /// <exception cref="SdhciException"><see cref="SdhciError.NotSupported"/>: not signalling at 1.8 V, or the host lacks the mode.</exception>
    public void SetUhsMode(SdBusSpeed speed)
    {
        if (speed == SdBusSpeed.Default)
            throw new ArgumentOutOfRangeException(nameof(speed), speed, "SDR25 (High), SDR50 or SDR104.");
        if (!Signalling18V || (speed == SdBusSpeed.Sdr104 && !Capabilities.Sdr104) || (speed == SdBusSpeed.Sdr50 && !Capabilities.Sdr50))
            throw new SdhciException(SdhciError.NotSupported, $"{SdBusSpeeds.Name(speed)} needs 1.8 V signalling and the host's support for it (Capabilities bits 32, 33).");
        EnableSdClock(false);
        var control2 = R.HostControl2Fields.UhsModeSelect.Insert(_io.Read(R.HostControl2), (ulong)speed);
        _io.Write(R.HostControl2, control2);
        _io.Write(R.HostControl1, R.HostControl1Fields.HighSpeedEnable.Insert(_io.Read(R.HostControl1), 1));
        HighSpeed = true;
        ClockHz = 0;
    }

    /// <summary>The most CMD19s one tuning takes: SD Host Controller 3.00 bounds the procedure to 40 tuning commands.</summary>
    public const int MaxTuningCommands = 40;

    /// <summary>
    /// Sampling clock tuning (SD Host Controller 3.00, Host Control 2 Execute Tuning and Sampling Clock Select,
    /// the "Sampling Clock Tuning Procedure" figure): set Execute Tuning with Sampling Clock Select clear, send
    /// CMD19 (SEND_TUNING_BLOCK, a 64-byte block on a 4-bit bus) until the controller clears Execute Tuning, at
    /// most <see cref="MaxTuningCommands"/> times, waiting for each Buffer Read Ready. The block is the
    /// controller's own: it is never read from the data port. Success is Sampling Clock Select set. On failure
    /// both bits are cleared and the CMD and DAT lines reset, so the fixed sampling clock and a clean state remain.
    /// </summary>
    /// <param name="tries">CMD19s sent.</param>
    /// <returns>Whether the controller found a sampling point.</returns>
    public bool ExecuteTuning(out int tries)
    {
        var control2 = R.HostControl2Fields.SamplingClockSelect.Insert(_io.Read(R.HostControl2), 0);
        _io.Write(R.HostControl2, R.HostControl2Fields.ExecuteTuning.Insert(control2, 1));
        var context = new Context(19, false);
        var blockSize = R.BlockSizeFields.TransferBlockSize.Insert(0, (ulong)(BusWidth == 8 ? 128 : 64));
        for (tries = 1; tries <= MaxTuningCommands; tries++)
        {
            try
            {
                WaitForLinesFree(context, usesDat: true);
                _latched = I.None;
                _io.Write(R.BlockSize, blockSize);
                _io.Write(R.BlockCount, 1);
                _io.Write(R.Argument, 0);
                _io.Write(R.TransferMode, R.TransferModeFields.DataTransferDirection.Insert(0, 1));
                _io.Write(R.Command, CommandFor(19, SdResponseType.R1, data: true));
                // Command errors are not reported during tuning (spec 3.00): Buffer Read Ready is the only news.
                WaitFor(context, I.BufferReadReady, Options.CommandTimeout, "Buffer Read Ready (tuning block)");
            }
            catch (SdhciException e) when (e.Error is not (SdhciError.ControllerNotResponding or SdhciError.CardRemoved or SdhciError.NoCard))
            {
                Recover(dataLine: true);
            }

            if (!R.HostControl2Fields.ExecuteTuning.IsSet(_io.Read(R.HostControl2)))
                break;
        }

        tries = Math.Min(tries, MaxTuningCommands);
        var after = _io.Read(R.HostControl2);
        if (!R.HostControl2Fields.ExecuteTuning.IsSet(after) && R.HostControl2Fields.SamplingClockSelect.IsSet(after))
            return true;
        after = R.HostControl2Fields.ExecuteTuning.Insert(after, 0);
        _io.Write(R.HostControl2, R.HostControl2Fields.SamplingClockSelect.Insert(after, 0));
        Recover(dataLine: true);
        return false;
    }

    /// <summary>Sets the host's data bus width (Host Control 1 bits 1 and 5); the card must be switched first (ACMD6).</summary>
    /// <param name="width">1, 4, or 8 (embedded devices, when the capabilities allow).</param>
    /// <exception cref="ArgumentOutOfRangeException">Not 1, 4 or 8.</exception>
    /// <exception cref="SdhciException">8 bits without the capability.</exception>
    public void SetBusWidth(int width)
    {
        if (width is not (1 or 4 or 8))
            throw new ArgumentOutOfRangeException(nameof(width), width, "The SD bus is 1, 4 or 8 bits wide.");
        if (width == 8 && !Capabilities.Supports8BitBus)
            throw new SdhciException(SdhciError.NotSupported, "The controller has no 8-bit bus (Capabilities bit 18 is clear).");
        var control = _io.Read(R.HostControl1);
        control = R.HostControl1Fields.DataTransferWidth.Insert(control, width == 4 ? 1UL : 0);
        control = R.HostControl1Fields.ExtendedDataTransferWidth.Insert(control, width == 8 ? 1UL : 0);
        _io.Write(R.HostControl1, control);
        BusWidth = width;
    }

    /// <summary>Sends a command and waits for its response and, with <paramref name="data"/>, its data phase.</summary>
    /// <param name="index">The command index, 0 to 63.</param>
    /// <param name="argument">The 32-bit argument.</param>
    /// <param name="responseType">The response the command expects.</param>
    /// <param name="data">The data phase, or null.</param>
    /// <returns>The response.</returns>
    /// <exception cref="SdhciException">The command or its data failed, or a wait timed out; the lines are reset before it is thrown.</exception>
    /// <exception cref="InvalidOperationException">A write transfer without <see cref="SdhciHostOptions.AllowWrite"/>.</exception>
    public SdResponse SendCommand(int index, uint argument, SdResponseType responseType, SdhciDataTransfer? data = null) =>
        Send(new Context(index, false), argument, responseType, data);

    /// <summary>Sends CMD55 (APP_CMD) to <paramref name="rca"/>, checks the card took it, then the application command.</summary>
    /// <param name="rca">The card's relative address (0 before CMD3).</param>
    /// <param name="index">The application command index (41 for ACMD41).</param>
    /// <param name="argument">Its argument.</param>
    /// <param name="responseType">Its response.</param>
    /// <param name="data">Its data phase, or null.</param>
    /// <returns>The application command's response.</returns>
    /// <exception cref="SdhciException">Either command failed, or the card did not set APP_CMD in its status.</exception>
    public SdResponse SendApplicationCommand(ushort rca, int index, uint argument, SdResponseType responseType, SdhciDataTransfer? data = null)
    {
        var status = Send(new Context(55, false), (uint)rca << 16, SdResponseType.R1, null).Value;
        if (((SdCardStatus)status & SdCardStatus.AppCmd) == 0)
        {
            throw new SdhciException(SdhciError.UnusableCard,
                $"{SdCommandNames.Describe(index, true)}: the card answered CMD55 with status 0x{status:x8}, without APP_CMD (bit 5): it takes no application commands.",
                55) { CardStatus = status };
        }

        return Send(new Context(index, true), argument, responseType, data);
    }

    private SdResponse Send(Context context, uint argument, SdResponseType responseType, SdhciDataTransfer? data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(context.Index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(context.Index, 63);
        if (data is { Direction: SdhciTransferDirection.Write } && !Options.AllowWrite)
        {
            throw new InvalidOperationException(
                $"{context}: writing the card is disabled. Writes need an explicit opt-in (SdhciHostOptions.AllowWrite, sdhci-probe --allow-write).");
        }

        if (data is not null && Capabilities.MaxBlockLength != 0 && data.BlockSize > Capabilities.MaxBlockLength)
            throw new SdhciException(SdhciError.NotSupported, $"{context}: blocks of {data.BlockSize} bytes exceed the controller's {Capabilities.MaxBlockLength}.", context.Index, context.Application);

        var usesDat = data is not null || responseType == SdResponseType.R1b;
        WaitForLinesFree(context, usesDat);
        _latched = I.None;
        try
        {
            ulong sdmaAddress = 0;
            if (data is not null)
                sdmaAddress = PrepareData(context, data);

            _io.Write(R.Argument, argument);
            _io.Write(R.TransferMode, data is null ? 0 : TransferModeFor(data));
            _io.Write(R.Command, CommandFor(context.Index, responseType, data is not null));

            WaitFor(context, I.CommandComplete, Options.CommandTimeout, "Command Complete");
            var response = ReadResponse(responseType);
            if (data is not null)
            {
                RunDataPhase(context, data, sdmaAddress);
                if (data.BlockCount > 1 && data.AutoCmd12)
                    response = response with { AutoCommandResponse = (uint)_io.Read(R.Response3) };
            }
            else if (responseType == SdResponseType.R1b)
            {
                WaitFor(context, I.TransferComplete, Options.DataTimeout, "the end of busy (Transfer Complete)");
            }

            return response;
        }
        catch (SdhciException e) when (e.Error != SdhciError.ControllerNotResponding)
        {
            Recover(usesDat || e.Error is SdhciError.DataTimeout or SdhciError.DataCrc or SdhciError.DataEndBit or SdhciError.Adma or SdhciError.AutoCommand
                or SdhciError.CardRemoved);
            throw;
        }
    }

    private void WaitForLinesFree(Context context, bool usesDat)
    {
        var inhibit = R.PresentStateFields.CommandInhibitCmd.Mask | (usesDat ? R.PresentStateFields.CommandInhibitDat.Mask : 0);
        var timeout = usesDat ? Options.DataTimeout : Options.CommandTimeout;
        if (PollUntil(() => (_io.Read(R.PresentState) & inhibit) == 0, timeout))
            return;
        var present = (uint)_io.Read(R.PresentState);
        var line = R.PresentStateFields.CommandInhibitCmd.IsSet(present) ? "CMD" : "DAT";
        throw new SdhciException(SdhciError.LineBusy,
            $"{context}: Command Inhibit ({line}) stayed set for {Format(timeout)} (Present State 0x{present:x8}): the previous command or transfer never ended. Reset the controller.",
            context.Index, context.Application);
    }

    private ulong PrepareData(Context context, SdhciDataTransfer data)
    {
        var control = _io.Read(R.HostControl1);
        ulong sdmaAddress = 0;
        switch (data.Mode)
        {
            case SdhciTransferMode.Sdma:
            {
                if (!Capabilities.Sdma)
                    throw new SdhciException(SdhciError.NotSupported, $"{context}: the controller has no SDMA (Capabilities bit 22).", context.Index, context.Application);
                var dma = data.Dma!;
                sdmaAddress = dma.DeviceAddress;
                if (!Sdma64)
                    CheckBelow4GiB(dma, data.Length, "SDMA");
                if (data.Direction == SdhciTransferDirection.Write)
                    data.Buffer.Span[..data.Length].CopyTo(dma.Bytes);
                WriteSdmaAddress(sdmaAddress);
                control = R.HostControl1Fields.DmaSelect.Insert(control, 0);
                break;
            }

            case SdhciTransferMode.Adma2:
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
                WriteAdma2Table(dma.Bytes, dma.DeviceAddress + (ulong)offset, data.Length, format);
                if (data.Direction == SdhciTransferDirection.Write)
                    data.Buffer.Span[..data.Length].CopyTo(dma.Bytes[offset..]);
                if (format == SdhciAdma2Format.Address32)
                {
                    _io.Write32(R.AdmaSystemAddress.Offset, (uint)dma.DeviceAddress);   // 0x5C only exists with 64-bit addressing
                }
                else
                {
                    _io.Write(R.AdmaSystemAddress, dma.DeviceAddress);                   // 0x58, then the upper half at 0x5C
                }

                // DMA Select (Host Control 1 bits 4:3): 0b11 is 64-bit ADMA2 in version 3 mode; in
                // version 4 mode 0b10 is ADMA2 and Host Control 2 bit 13 gives the address width.
                control = R.HostControl1Fields.DmaSelect.Insert(control, format == SdhciAdma2Format.Address64 ? 3UL : 2UL);
                break;
            }

            default:
                control = R.HostControl1Fields.DmaSelect.Insert(control, 0);
                break;
        }

        _io.Write(R.HostControl1, control);
        var blockSize = R.BlockSizeFields.TransferBlockSize.Insert(0, (ulong)data.BlockSize);
        blockSize = R.BlockSizeFields.SdmaBufferBoundary.Insert(blockSize, SdmaBoundaryField);
        _io.Write(R.BlockSize, blockSize);
        _io.Write(R.BlockCount, (ulong)data.BlockCount);
        return sdmaAddress;
    }

    private void CheckBelow4GiB(IDmaMemory dma, int length, string engine)
    {
        if (dma.DeviceAddress + (ulong)length > 1UL << 32)
        {
            var why = engine == "SDMA" ? "SDMA takes 32-bit addresses (64-bit SDMA needs version 4 mode)"
                : !Options.Allow64BitDma ? "64-bit ADMA2 is turned off (SdhciHostOptions.Allow64BitDma), so ADMA2 takes 32-bit addresses"
                : Version4Mode ? "in version 4 mode this controller has no 64-bit addressing (Capabilities bit 27 is clear), so ADMA2 takes 32-bit addresses"
                : "this controller has no 64-bit system bus (Capabilities bit 28 is clear), so ADMA2 takes 32-bit addresses";
            throw new ArgumentException(
                $"The DMA memory at 0x{dma.DeviceAddress:x} ends above 4 GiB: {why}. Map it at an IOVA below 4 GiB (or, without an IOMMU, use memory below 4 GiB).", nameof(dma));
        }
    }

    /// <summary>The SDMA address goes to 0x00, or in version 4 mode to the ADMA System Address register (spec 4.10, 2.2.1).</summary>
    private void WriteSdmaAddress(ulong address)
    {
        if (Version4Mode)
            _io.Write(R.AdmaSystemAddress, address);
        else
            _io.Write(R.SdmaSystemAddress, address);
    }

    /// <summary>
    /// One descriptor per 32 KiB: valid and transfer; the last one also ends the table. Little-endian,
    /// the layout of spec 4.10, 1.13.4: attribute (bits 15:0), length (31:16), address from bit 32 (32 or
    /// 64 bits); a 128-bit descriptor's last 32 bits are reserved and written as 0.
    /// </summary>
    private static void WriteAdma2Table(Span<byte> memory, ulong dataAddress, int length, SdhciAdma2Format format)
    {
        var size = DescriptorLength(format);
        var count = Adma2DescriptorCount(length);
        for (var i = 0; i < count; i++)
        {
            var chunk = Math.Min(MaxAdma2DescriptorLength, length - (i * MaxAdma2DescriptorLength));
            var entry = memory.Slice(i * size, size);
            var attribute = (ushort)(AdmaValid | AdmaTransfer | (i == count - 1 ? AdmaEnd : 0));
            var address = dataAddress + ((ulong)i * MaxAdma2DescriptorLength);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, attribute);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], (ushort)chunk);
            if (format == SdhciAdma2Format.Address32)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], (uint)address);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], address);
                entry[12..].Clear();
            }
        }
    }

    private static ulong TransferModeFor(SdhciDataTransfer data)
    {
        ulong mode = R.TransferModeFields.BlockCountEnable.Insert(0, 1);
        if (data.Direction == SdhciTransferDirection.Read)
            mode = R.TransferModeFields.DataTransferDirection.Insert(mode, 1);
        if (data.BlockCount > 1)
        {
            mode = R.TransferModeFields.MultiBlockSelect.Insert(mode, 1);
            if (data.AutoCmd12)
                mode = R.TransferModeFields.AutoCmdEnable.Insert(mode, 1);
        }

        if (data.Mode != SdhciTransferMode.Pio)
            mode = R.TransferModeFields.DmaEnable.Insert(mode, 1);
        return mode;
    }

    private static ulong CommandFor(int index, SdResponseType type, bool data)
    {
        ulong command = R.CommandFields.CommandIndex.Insert(0, (ulong)index);
        command = R.CommandFields.ResponseTypeSelect.Insert(command, type switch
        {
            SdResponseType.None => 0UL,
            SdResponseType.R2 => 1UL,
            SdResponseType.R1b => 3UL,
            _ => 2UL,
        });
        if (type is SdResponseType.R1 or SdResponseType.R1b or SdResponseType.R2 or SdResponseType.R6 or SdResponseType.R7)
            command = R.CommandFields.CommandCrcCheckEnable.Insert(command, 1);
        if (type is SdResponseType.R1 or SdResponseType.R1b or SdResponseType.R6 or SdResponseType.R7)
            command = R.CommandFields.CommandIndexCheckEnable.Insert(command, 1);
        if (data)
            command = R.CommandFields.DataPresentSelect.Insert(command, 1);
        return command;
    }

    private SdResponse ReadResponse(SdResponseType type) => type switch
    {
        SdResponseType.None => new SdResponse(type, 0, 0, 0, 0),
        SdResponseType.R2 => new SdResponse(type, (uint)_io.Read(R.Response0), (uint)_io.Read(R.Response1), (uint)_io.Read(R.Response2), (uint)_io.Read(R.Response3)),
        _ => new SdResponse(type, (uint)_io.Read(R.Response0), 0, 0, 0),
    };

    private void RunDataPhase(Context context, SdhciDataTransfer data, ulong sdmaAddress)
    {
        if (data.Mode == SdhciTransferMode.Pio)
        {
            var read = data.Direction == SdhciTransferDirection.Read;
            var ready = read ? I.BufferReadReady : I.BufferWriteReady;
            var words = data.BlockSize / 4;
            for (var block = 0; block < data.BlockCount; block++)
            {
                WaitFor(context, ready, Options.DataTimeout, read ? "Buffer Read Ready" : "Buffer Write Ready");
                var span = data.Buffer.Span.Slice(block * data.BlockSize, data.BlockSize);
                // The data port is touched here and nowhere else: each access moves four bytes of card data,
                // little-endian (byte 0 of the block in bits 7:0). One block per call, the offset checked once.
                var port = (int)R.BufferDataPort.Offset;
                if (BitConverter.IsLittleEndian)
                {
                    var values = MemoryMarshal.Cast<byte, uint>(span);
                    if (read)
                        _io.ReadRepeated32(port, values);
                    else
                        _io.WriteRepeated32(port, values);
                }
                else
                {
                    for (var word = 0; word < words; word++)
                    {
                        if (read)
                            BinaryPrimitives.WriteUInt32LittleEndian(span[(word * 4)..], _io.Read32(port));
                        else
                            _io.Write32(port, BinaryPrimitives.ReadUInt32LittleEndian(span[(word * 4)..]));
                    }
                }
            }

            WaitFor(context, I.TransferComplete, Options.DataTimeout, "Transfer Complete");
            return;
        }

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
            if (data.Mode == SdhciTransferMode.Sdma)
            {
                // The controller paused at a buffer boundary: hand it the next one (what sdhci.c does).
                sdmaAddress = (sdmaAddress & ~(ulong)(SdmaBoundary - 1)) + SdmaBoundary;
                WriteSdmaAddress(sdmaAddress);
                resumed = true;
            }
        }

        if (data.Direction == SdhciTransferDirection.Read)
        {
            var offset = DmaDataOffset(data.Mode, data.Length, Adma2DescriptorLength);
            data.Dma!.Bytes.Slice(offset, data.Length).CopyTo(data.Buffer.Span);
        }
    }

    /// <summary>Waits until one of <paramref name="wanted"/> has been seen, servicing every interrupt on the way.</summary>
    private I WaitFor(Context context, I wanted, TimeSpan timeout, string what)
    {
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            ThrowOnError(context);
            var got = _latched & wanted;
            if (got != 0)
            {
                _latched &= ~got;
                return got;
            }

            var remaining = timeout - Stopwatch.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                // A lost interrupt costs time, not the command: look at the status once more.
                Service(fired: false);
                ThrowOnError(context);
                got = _latched & wanted;
                if (got != 0)
                {
                    _latched &= ~got;
                    return got;
                }

                var present = (uint)_io.Read(R.PresentState);
                throw new SdhciException(SdhciError.Timeout,
                    $"{context}: no {what} within {Format(timeout)} (interrupt status seen 0x{(uint)_latched:x8}, Present State 0x{present:x8}). " +
                    "The controller raised no interrupt for it: check that the interrupt is wired and unmasked, or try polling (--poll).",
                    context.Index, context.Application, _latched);
            }

            if (_interrupt.Wait(remaining))
                Service(fired: true);
        }
    }

    /// <summary>Reads the status, clears what is set, and only then re-arms the interrupt.</summary>
    private void Service(bool fired)
    {
        var status = _io.Read32(R.NormalInterruptStatus.Offset);
        if (status == uint.MaxValue)
        {
            if (fired)
                _interrupt.Acknowledge();
            throw new SdhciException(SdhciError.ControllerNotResponding,
                "The interrupt status reads 0xffffffff: the controller stopped answering (powered down, clock gated, or removed). " + SdhciHealth.DeadControllerAdvice);
        }

        var clear = status & ~(uint)NotClearable;
        if (clear != 0)
            _io.Write32(R.NormalInterruptStatus.Offset, clear);
        if (fired)
            _interrupt.Acknowledge();
        _latched |= (I)clear;
    }

    private void ThrowOnError(Context context)
    {
        var errors = _latched & AllErrors;
        if (errors == 0 && (_latched & I.CardRemoval) == 0)
            return;
        var status = _latched;
        var errorStatus = (ushort)((uint)errors >> 16);
        var raw = string.Create(CultureInfo.InvariantCulture, $" (Error Interrupt Status 0x{errorStatus:x4}: {SdhciException.DescribeErrorStatus(errorStatus)})");
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

        if ((errors & I.CommandCrcError) != 0)
            throw Fail(SdhciError.CommandCrc, "the response failed its CRC check (Command CRC Error): a signal problem on the bus, or a clock too fast for the card");
        if ((errors & I.CommandEndBitError) != 0)
            throw Fail(SdhciError.CommandEndBit, "the response's end bit was 0 (Command End Bit Error)");
        if ((errors & I.CommandIndexError) != 0)
            throw Fail(SdhciError.CommandIndex, "the response carried another command's index (Command Index Error)");
        if ((errors & I.AdmaError) != 0)
        {
            var adma = (byte)_io.Read(R.AdmaErrorStatus);
            // 0x5C only exists with 64-bit addressing: a 32-bit engine reads 0x58 alone.
            var descriptor = Adma2Format == SdhciAdma2Format.Address32 ? _io.Read32(R.AdmaSystemAddress.Offset) : _io.Read(R.AdmaSystemAddress);
            var state = (adma & 3) switch
            {
                0 => "ST_STOP: the descriptor before the address was at fault",
                1 => "ST_FDS: fetching a descriptor (not valid, or unreachable)",
                3 => "ST_TFR: transferring data (the data address is unreachable)",
                _ => "unknown state",
            };
            throw new SdhciException(SdhciError.Adma,
                $"{context}: the ADMA engine failed (ADMA Error), in {state}{((adma & 4) != 0 ? ", with a length mismatch" : "")}; " +
                $"ADMA Error Status 0x{adma:x2}, descriptor address 0x{descriptor:x}{raw}.",
                context.Index, context.Application, status) { AdmaErrorStatus = adma, AdmaDescriptorAddress = descriptor };
        }

        if ((errors & I.AutoCmdError) != 0)
        {
            var auto = (ushort)_io.Read(R.AutoCmdErrorStatus);
            throw new SdhciException(SdhciError.AutoCommand,
                $"{context}: the Auto CMD12 after the transfer failed (Auto CMD Error Status 0x{auto:x4}: {SdhciException.DescribeAutoCmdErrorStatus(auto)}){raw}.",
                context.Index, context.Application, status) { AutoCmdErrorStatus = auto };
        }

        if ((errors & I.DataTimeoutError) != 0)
            throw Fail(SdhciError.DataTimeout, "the card sent no data, or stayed busy, within the data timeout (Data Timeout Error)");
        if ((errors & I.DataCrcError) != 0)
            throw Fail(SdhciError.DataCrc, "the data failed its CRC check (Data CRC Error)");
        if ((errors & I.DataEndBitError) != 0)
            throw Fail(SdhciError.DataEndBit, "a data end bit was 0 (Data End Bit Error)");
        if ((errors & I.CurrentLimitError) != 0)
            throw Fail(SdhciError.CurrentLimit, "the card drew more current than the controller allows (Current Limit Error)");
        if ((errors & I.TuningError) != 0)
            throw Fail(SdhciError.Tuning, "the controller's tuning circuit failed (Tuning Error): the sampling clock is no longer valid");
        throw Fail(SdhciError.Timeout, "the controller reported a vendor-specific or unknown error");
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
            var status = _io.Read32(R.NormalInterruptStatus.Offset);
            if (status != uint.MaxValue && (status & ~(uint)NotClearable) != 0)
                _io.Write32(R.NormalInterruptStatus.Offset, status & ~(uint)NotClearable);
        }
        catch (SdhciException)
        {
            // The error being reported matters more than a failed clean-up.
        }

        _latched = I.None;
    }

    private static bool PollUntil(Func<bool> condition, TimeSpan timeout)
    {
        var start = Stopwatch.GetTimestamp();
        var spinner = default(SpinWait);
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) > timeout)
                return condition();
            spinner.SpinOnce();
        }

        return true;
    }

    private static void Pause(TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
            Thread.Sleep(delay);
    }

    internal static string Format(TimeSpan span) => span.TotalSeconds >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.###} s")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0.###} ms");

    private readonly record struct Context(int Index, bool Application)
    {
        public override string ToString() => SdCommandNames.Describe(Index, Application);
    }
}
