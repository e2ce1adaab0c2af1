using System.Diagnostics;
using Vfio.Platform.Mmio;
using static Sdhci.Probe.Sdhci.SdhciHost;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The SDHCI command engine: resets, bus power, SD clock, bus width, and commands with their data
/// phases (PIO through the data port, SDMA, ADMA2), interrupt-driven through an
/// <see cref="ISdhciInterrupt"/>, with a timeout on every wait and a typed
/// <see cref="SdhciException"/> for every failure.
/// </summary>
/// <typeparam name="TBus">Where the registers are: <see cref="MmioBus"/> for the controller mapped through VFIO
/// (each register access is then one volatile load or store at a constant offset), or a model of the controller
/// in tests (the same driver code, each access a call to the model).</typeparam>
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
/// var host = new SdhciHost&lt;MmioBus&gt;(region.Bind&lt;SdhciBlock&gt;(), new PollingInterrupt());   // tests: SdhciHost.Create(model, ...)
/// host.Initialize();                                               // reset, interrupts, 3.3 V, 400 kHz
/// host.SendCommand(0, 0, SdResponseType.None);                     // CMD0
/// var r7 = host.SendCommand(8, 0x1AA, SdResponseType.R7);          // CMD8
/// var ocr = host.SendApplicationCommand(0, 41, 0x40300000, SdResponseType.R3).Value;
/// </code>
/// </example>
// One class, split by concern (all files SdhciHost.*.cs beside this one): this file has construction,
// reset and the command path; Interrupts the interrupt servicing; Errors the error decoding and line
// resets; Bus power, clock, width, High Speed, UHS-I and tuning; DataPhase what every data phase
// shares, then Pio, Sdma and Adma2 each mode on its own (the ADMA2 descriptors in SdhciAdma2Table).
public sealed partial class SdhciHost<TBus> : ISdhciHost
    where TBus : IRegisterBus
{
    private readonly RegisterBlock<SdhciBlock, TBus> _regs;
    private readonly ISdhciInterrupt _interrupt;
    private I _latched;

    /// <summary>Creates the engine and reads the controller's version and capabilities; nothing is written.</summary>
    /// <param name="registers">The controller's registers: <c>region.Bind&lt;SdhciBlock&gt;()</c>, or
    /// <see cref="RegisterBlock.Over{TBlock, TBus}"/> over a model.</param>
    /// <param name="interrupt">Its interrupt, or a <see cref="PollingInterrupt"/>.</param>
    /// <param name="options">Timeouts and policies; defaults when null.</param>
    /// <exception cref="ArgumentException">The register block is not bound.</exception>
    public SdhciHost(RegisterBlock<SdhciBlock, TBus> registers, ISdhciInterrupt interrupt, SdhciHostOptions? options = null)
    {
        if (!registers.IsBound)
            throw new ArgumentException("The SDHCI register block is not bound: use region.Bind<SdhciBlock>() or RegisterBlock.Over.", nameof(registers));
        ArgumentNullException.ThrowIfNull(interrupt);
        _regs = registers;
        _interrupt = interrupt;
        Options = options ?? new SdhciHostOptions();
        Version = new SdhciHostVersion(_regs.Read(S.HostControllerVersion));
        Capabilities = new SdhciCapabilities(ReadCapabilities(), Version.SpecVersion);
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

    /// <summary>Timeouts and policies.</summary>
    public SdhciHostOptions Options { get; }

    /// <summary>The Host Controller Version register, read when the engine was created.</summary>
    public SdhciHostVersion Version { get; }

    /// <summary>The Capabilities register, read when the engine was created.</summary>
    public SdhciCapabilities Capabilities { get; }

    /// <summary>Whether Present State (0x24) says a card is inserted.</summary>
    public bool CardPresent => S.CardInserted.Get(_regs.Read(S.PresentState));

    /// <summary>
    /// Whether the slot's write-protect switch marks the card read-only: Present State (0x24) bit 19,
    /// Write Protect Switch Pin Level, reads 0. This is how Linux's <c>sdhci_get_ro</c> reads it on hosts
    /// without a <c>get_ro</c> callback, a write-protect GPIO or the inverted-write-protect quirk.
    /// </summary>
    public bool WriteProtectSwitchSet => !S.WriteProtectPinLevel.Get(_regs.Read(S.PresentState));

    /// <summary>
    /// Brings the controller to identification state: Software Reset For All, interrupts enabled,
    /// maximum data timeout, bus power (3.3 V if offered), 1-bit bus, the identification clock
    /// (400 kHz), then a pause for the card's power ramp.
    /// </summary>
    /// <exception cref="SdhciException">The controller does not answer, does not reset, has no usable voltage or clock.</exception>
    public void Initialize()
    {
        var caps = ReadCapabilities();
        var version = _regs.Read(S.HostControllerVersion);
        if (caps == ulong.MaxValue || (caps == 0 && version == 0))
        {
            throw new SdhciException(SdhciError.ControllerNotResponding,
                $"The controller's Capabilities read 0x{caps:x16} and its version 0x{version:x4}: it is not answering. " + SdhciHealth.DeadControllerAdvice);
        }

        Reset(SdhciReset.All);
        if (Version4Mode)
        {
            // Version 4 mode before anything else uses DMA (SD Host Controller 4.10, 3.2.2); the reset cleared it.
            _regs.Modify(S.HostControl2, S.HostVersion4Enable, true, S.Addressing64Bit, Adma2Format == SdhciAdma2Format.Address64V4);
        }

        EnableInterrupts();
        _regs.Write(S.TimeoutControl, (byte)0x0E);
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
        _regs.Write(S.SoftwareReset, (byte)what);
        if (!PollUntil((Regs: _regs, Bits: (byte)what), static s => (s.Regs.Read(S.SoftwareReset) & s.Bits) == 0, Options.ResetTimeout))
        {
            throw new SdhciException(SdhciError.ResetTimeout,
                $"Software Reset ({what}) did not finish within {Format(Options.ResetTimeout)}: Software Reset (0x2F) still reads 0x{_regs.Read(S.SoftwareReset):x2}. " +
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

            _regs.Write(S.Argument, (uint)argument);
            _regs.Write(S.TransferMode, data is null ? (ushort)0 : TransferModeFor(data));
            _regs.Write(S.Command, CommandFor(context.Index, responseType, data is not null));

            WaitFor(context, I.CommandComplete, Options.CommandTimeout, "Command Complete");
            var response = ReadResponse(responseType);
            if (data is not null)
            {
                RunDataPhase(context, data, sdmaAddress);
                if (data.BlockCount > 1 && data.AutoCmd12)
                    response = response with { AutoCommandResponse = _regs.Read(S.Response3) };
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
        var inhibit = (uint)(S.CommandInhibitCmd.Mask | (usesDat ? S.CommandInhibitDat.Mask : 0));
        var timeout = usesDat ? Options.DataTimeout : Options.CommandTimeout;
        if (PollUntil((Regs: _regs, Inhibit: inhibit), static s => (s.Regs.Read(S.PresentState) & s.Inhibit) == 0, timeout))
            return;
        var present = _regs.Read(S.PresentState);
        var line = S.CommandInhibitCmd.Get(present) ? "CMD" : "DAT";
        throw new SdhciException(SdhciError.LineBusy,
            $"{context}: Command Inhibit ({line}) stayed set for {Format(timeout)} (Present State 0x{present:x8}): the previous command or transfer never ended. Reset the controller.",
            context.Index, context.Application);
    }

    private static ushort TransferModeFor(SdhciDataTransfer data)
    {
        var mode = S.BlockCountEnable.With(0u, true);
        if (data.Direction == SdhciTransferDirection.Read)
            mode = S.DataTransferDirection.With(mode, true);
        if (data.BlockCount > 1)
        {
            mode = S.MultiBlockSelect.With(mode, true);
            if (data.AutoCmd12)
                mode = S.AutoCmdEnable.With(mode, (byte)1); // Auto CMD12
        }

        if (data.Mode != SdhciTransferMode.Pio)
            mode = S.DmaEnable.With(mode, true);
        return (ushort)mode;
    }

    private static ushort CommandFor(int index, SdResponseType type, bool data)
    {
        var command = S.CommandIndex.With(0u, (byte)index);
        command = S.ResponseTypeSelect.With(command, type switch
        {
            SdResponseType.None => (byte)0,
            SdResponseType.R2 => (byte)1,
            SdResponseType.R1b => (byte)3,
            _ => (byte)2,
        });
        if (type is SdResponseType.R1 or SdResponseType.R1b or SdResponseType.R2 or SdResponseType.R6 or SdResponseType.R7)
            command = S.CommandCrcCheckEnable.With(command, true);
        if (type is SdResponseType.R1 or SdResponseType.R1b or SdResponseType.R6 or SdResponseType.R7)
            command = S.CommandIndexCheckEnable.With(command, true);
        if (data)
            command = S.DataPresentSelect.With(command, true);
        return (ushort)command;
    }

    private SdResponse ReadResponse(SdResponseType type) => type switch
    {
        SdResponseType.None => new SdResponse(type, 0, 0, 0, 0),
        SdResponseType.R2 => new SdResponse(type, _regs.Read(S.Response0), _regs.Read(S.Response1), _regs.Read(S.Response2), _regs.Read(S.Response3)),
        _ => new SdResponse(type, _regs.Read(S.Response0), 0, 0, 0),
    };

    /// <summary>Capabilities (0x40 and 0x44) as the 64-bit value the specification describes: two 32-bit reads, low half first.</summary>
    private ulong ReadCapabilities() => _regs.Read(S.Capabilities) | ((ulong)_regs.Read(S.Capabilities1) << 32);

    /// <summary>ADMA System Address (0x58 and 0x5C), two 32-bit reads, low half first.</summary>
    private ulong ReadAdmaAddress64() => _regs.Read(S.AdmaSystemAddress) | ((ulong)_regs.Read(S.AdmaSystemAddressHigh) << 32);

    /// <summary>Writes ADMA System Address (0x58, then the upper half at 0x5C), as the kernel's <c>sdhci_set_adma_addr</c> does.</summary>
    private void WriteAdmaAddress64(ulong address)
    {
        _regs.Write(S.AdmaSystemAddress, (uint)address);
        _regs.Write(S.AdmaSystemAddressHigh, (uint)(address >> 32));
    }

    // The condition is a static lambda over a state passed by value: no closure, so polling allocates nothing
    // (a capturing lambda here cost 96 B per command and showed in the guest's p99, bench/README 2026-11-30).
    private static bool PollUntil<TState>(TState state, Func<TState, bool> condition, TimeSpan timeout)
    {
        var start = Stopwatch.GetTimestamp();
        var spinner = default(SpinWait);
        while (!condition(state))
        {
            if (Stopwatch.GetElapsedTime(start) > timeout)
                return condition(state);
            spinner.SpinOnce();
        }

        return true;
    }

    private static void Pause(TimeSpan delay)
    {
        if (delay > TimeSpan.Zero)
            Thread.Sleep(delay);
    }

    private readonly record struct Context(int Index, bool Application)
    {
        public override string ToString() => SdCommandNames.Describe(Index, Application);
    }
}
