using static Sdhci.Probe.Sdhci.SdhciHost;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <content>The SD bus: power, clock, width, timing (High Speed, UHS-I) and sampling clock tuning.</content>
public sealed partial class SdhciHost<TBus>
{
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

    /// <summary>Turns bus power on at 3.3 V, or 3.0 V when the controller has no 3.3 V, then pauses for the card's power ramp.</summary>
    /// <returns>The voltage chosen.</returns>
    /// <exception cref="SdhciException"><see cref="SdhciError.NoUsableVoltage"/> when the capabilities offer neither.</exception>
    public SdhciBusVoltage PowerOn()
    {
        var voltage = Capabilities.Voltage33 ? SdhciBusVoltage.V33
            : Capabilities.Voltage30 ? SdhciBusVoltage.V30
            : throw new SdhciException(SdhciError.NoUsableVoltage,
                $"The controller offers no 3.3 V or 3.0 V supply (Capabilities 0x{Capabilities.Raw:x16}); SD cards start at 2.7 to 3.6 V.");
        var select = (byte)S.SdBusVoltageSelect.With(0u, voltage);
        _regs.Write(S.PowerControl, select);                                            // the voltage first, then power, as sdhci.c does
        _regs.Write(S.PowerControl, (byte)S.SdBusPower.With(select, true));
        Voltage = voltage;
        Pause(Options.PowerUpDelay);
        return voltage;
    }

    /// <summary>Stops the SD clock and turns bus power off.</summary>
    public void PowerOff()
    {
        _regs.Write(S.ClockControl, (ushort)0);
        _regs.Write(S.PowerControl, (byte)0);
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

        _regs.Write(S.ClockControl, (ushort)0);
        var divider = SdhciClock.DividerFor(baseHz, targetHz, Version.SpecVersion);
        var clock = (ushort)S.InternalClockEnable.With((uint)SdhciClock.EncodeDivider(divider), true);
        _regs.Write(S.ClockControl, clock);
        if (!PollUntil(_regs, static regs => S.InternalClockStable.Get(regs.Read(S.ClockControl)), Options.ClockStableTimeout))
        {
            throw new SdhciException(SdhciError.ClockNotStable,
                $"Internal Clock Stable never came within {Format(Options.ClockStableTimeout)} (Clock Control 0x{_regs.Read(S.ClockControl):x4}).");
        }

        _regs.Write(S.ClockControl, (ushort)S.SdClockEnable.With(clock, true));
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
        _regs.Modify(S.ClockControl, S.SdClockEnable, false);
        _regs.Modify(S.HostControl1, S.HighSpeedEnable, enable);
        HighSpeed = enable;
        ClockHz = 0;
    }

    /// <summary>
    /// Whether the host can run UHS-I: 1.8 V support (Capabilities bit 26) and SDR50 or SDR104 (bits 32 and 33),
    /// on a 3.00 or later controller, where Host Control 2 exists.
    /// </summary>
    public bool SupportsUhs => Version.SpecVersion >= SdhciSpecVersion.Version300 && Capabilities.Voltage18 && (Capabilities.Sdr50 || Capabilities.Sdr104);

    /// <summary>The Maximum Current Capabilities register (0x48): per supply voltage, in 4 mA steps (bits 23:16 for 1.8 V).</summary>
    public uint MaximumCurrent => _regs.Read(S.MaximumCurrent);

    /// <summary>Whether Host Control 2's 1.8V Signaling Enable (bit 3) is set.</summary>
    public bool Signalling18V => S.SignalingEnable18V.Get(_regs.Read(S.HostControl2));

    /// <summary>DAT[3:0] Line Signal Level, Present State (0x24) bits 23:20: 0xF when the card leaves all four high.</summary>
    public int DatLineLevels => S.DatLineSignalLevel.Get(_regs.Read(S.PresentState));

    /// <summary>Stops or restarts the SD clock (Clock Control bit 2), keeping the divider and the internal clock.</summary>
    /// <param name="enable">Whether the card gets a clock.</param>
    public void EnableSdClock(bool enable)
    {
        _regs.Modify(S.ClockControl, S.SdClockEnable, enable);
    }

    /// <summary>
    /// Sets or clears 1.8V Signaling Enable (Host Control 2 bit 3) and reads it back: a host whose regulator
    /// cannot switch leaves it clear (SD Host Controller 3.00, 3.6.1, step 8).
    /// </summary>
    /// <param name="enable">1.8 V signalling, or 3.3 V.</param>
    /// <returns>Whether the bit reads as asked.</returns>
    public bool SetSignalling18V(bool enable)
    {
        _regs.Modify(S.HostControl2, S.SignalingEnable18V, enable);
        return Signalling18V == enable;
    }

    /// <summary>
    /// Selects a UHS-I mode on the host with the SD clock stopped (SD Host Controller 3.00, Host Control 2 register (0x3E),
    /// UHS Mode Select: 1 SDR25, 2 SDR50, 3 SDR104, 4 DDR50), and High Speed Enable with it, as Linux's <c>sdhci_set_ios</c> does for
    /// every timing above Default Speed. The caller then sets the clock (<see cref="SetClock"/>).
    /// </summary>
    /// <param name="speed">High (SDR25 at 1.8 V), SDR50, SDR104 or DDR50.</param>
    /// <exception cref="SdhciException"><see cref="SdhciError.NotSupported"/>: not signalling at 1.8 V, or the host lacks the mode.</exception>
    public void SetUhsMode(SdBusSpeed speed)
    {
        if (speed == SdBusSpeed.Default)
            throw new ArgumentOutOfRangeException(nameof(speed), speed, "SDR25 (High), SDR50, SDR104 or DDR50.");
        if (!Signalling18V || (speed == SdBusSpeed.Sdr104 && !Capabilities.Sdr104) || (speed == SdBusSpeed.Sdr50 && !Capabilities.Sdr50)
            || (speed == SdBusSpeed.Ddr50 && !Capabilities.Ddr50))
            throw new SdhciException(SdhciError.NotSupported, $"{SdBusSpeeds.Name(speed)} needs 1.8 V signalling and the host's support for it (Capabilities bits 32, 33, 34).");
        EnableSdClock(false);
        _regs.Modify(S.HostControl2, S.UhsModeSelect, speed);
        _regs.Modify(S.HostControl1, S.HighSpeedEnable, true);
        HighSpeed = true;
        ClockHz = 0;
    }

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
        _regs.Modify(S.HostControl2, S.SamplingClockSelect, false, S.ExecuteTuning, true);
        var context = new Context(19, false);
        var blockSize = (ushort)S.TransferBlockSize.With(0u, (ushort)(BusWidth == 8 ? 128 : 64));
        for (tries = 1; tries <= MaxTuningCommands; tries++)
        {
            try
            {
                WaitForLinesFree(context, usesDat: true);
                _latched = I.None;
                _regs.Write(S.BlockSize, blockSize);
                _regs.Write(S.BlockCount, (ushort)1);
                _regs.Write(S.Argument, 0);
                _regs.Write(S.TransferMode, (ushort)S.DataTransferDirection.With(0u, true));
                _regs.Write(S.Command, CommandFor(19, SdResponseType.R1, data: true));
                // Command errors are not reported during tuning (spec 3.00): Buffer Read Ready is the only news.
                WaitFor(context, I.BufferReadReady, Options.CommandTimeout, "Buffer Read Ready (tuning block)");
            }
            catch (SdhciException e) when (e.Error is not (SdhciError.ControllerNotResponding or SdhciError.CardRemoved or SdhciError.NoCard))
            {
                Recover(dataLine: true);
            }

            if (!S.ExecuteTuning.Get(_regs.Read(S.HostControl2)))
                break;
        }

        tries = Math.Min(tries, MaxTuningCommands);
        var after = _regs.Read(S.HostControl2);
        if (!S.ExecuteTuning.Get(after) && S.SamplingClockSelect.Get(after))
            return true;
        _regs.Modify(S.HostControl2, S.ExecuteTuning, false, S.SamplingClockSelect, false);
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
        _regs.Modify(S.HostControl1, S.DataTransferWidth, width == 4, S.ExtendedDataTransferWidth, width == 8);
        BusWidth = width;
    }
}
