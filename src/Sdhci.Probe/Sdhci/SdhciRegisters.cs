using System.Globalization;
using Vfio.Platform.Mmio;
using static Sdhci.Probe.Sdhci.SdhciField;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// Every register of the SD Host Controller Simplified Specification 3.00, in the order of the
/// specification's register map, each followed by its fields. Offsets and widths are written here
/// and nowhere else; names follow the specification, and <see cref="SdhciRegister.KernelName"/>
/// gives the Linux kernel's macro (<c>drivers/mmc/host/sdhci.h</c>) for the same offset.
/// </summary>
/// <remarks>
/// A few bits the specification added after 3.00 are named too (marked "4.10") because the Linux
/// driver uses them and a dump of a newer controller should not show them as anonymous.
/// </remarks>
/// <example>
/// <code>
/// ulong present = io.Read(SdhciRegisters.PresentState);
/// bool card = SdhciRegisters.PresentStateFields.CardInserted.IsSet(present);
/// foreach (var reg in SdhciRegisters.All) Console.WriteLine(reg);
/// </code>
/// </example>
public static class SdhciRegisters
{
    // Each register's offset, width and access kind come from its typed declaration in SdhciBlock: written once.
    private static SdhciRegister Reg<TAccess>(Register8<SdhciBlock, TAccess> register, string name, string? kernelName, params SdhciField[] fields)
        where TAccess : struct, Access.IKind =>
        new(register.Offset, 1, name, kernelName, TAccess.Kind, SdhciRegisterBlock.Standard, fields);

    private static SdhciRegister Reg<TAccess>(Register16<SdhciBlock, TAccess> register, string name, string? kernelName, params SdhciField[] fields)
        where TAccess : struct, Access.IKind =>
        new(register.Offset, 2, name, kernelName, TAccess.Kind, SdhciRegisterBlock.Standard, fields);

    private static SdhciRegister Reg<TAccess>(Register32<SdhciBlock, TAccess> register, string name, string? kernelName, params SdhciField[] fields)
        where TAccess : struct, Access.IKind =>
        new(register.Offset, 4, name, kernelName, TAccess.Kind, SdhciRegisterBlock.Standard, fields);

    /// <summary>A 64-bit register the driver and the dump read as two 32-bit halves, low first.</summary>
    private static SdhciRegister Reg<TAccess>(Register32<SdhciBlock, TAccess> low, Register32<SdhciBlock, TAccess> high, string name, string? kernelName, params SdhciField[] fields)
        where TAccess : struct, Access.IKind =>
        high.Offset == low.Offset + 4
            ? new(low.Offset, 8, name, kernelName, TAccess.Kind, SdhciRegisterBlock.Standard, fields)
            : throw new ArgumentException($"{name}: the high half must follow the low one.", nameof(high));

    private static SdhciRegister InterruptReg<TAccess>(Register16<SdhciBlock, TAccess> register, string name, string? kernelName, IReadOnlyList<SdhciField> fields)
        where TAccess : struct, Access.IKind =>
        new(register.Offset, 2, name, kernelName, TAccess.Kind, SdhciRegisterBlock.Standard, fields, listSetFlags: true);

    // ---- 0x00 to 0x0F: addresses, block size and count, argument, transfer mode, command -------

    /// <summary>0x00, 32-bit: SDMA System Address, or Argument 2 (the CMD23 block count when Auto CMD23 is used).</summary>
    public static readonly SdhciRegister SdmaSystemAddress = Reg(S.SdmaSystemAddress, "SDMA System Address / Argument 2", "SDHCI_DMA_ADDRESS");

    /// <summary>0x04, 16-bit: Block Size.</summary>
    public static readonly SdhciRegister BlockSize = Reg(S.BlockSize, "Block Size", "SDHCI_BLOCK_SIZE",
        BlockSizeFields.TransferBlockSize, BlockSizeFields.SdmaBufferBoundary);

    /// <summary>Fields of <see cref="BlockSize"/>.</summary>
    public static class BlockSizeFields
    {
        /// <summary>Bits 11:0: bytes per block, 1 to 2048.</summary>
        public static readonly SdhciField TransferBlockSize = Custom(S.TransferBlockSize, "Transfer Block Size",
            static (v, _) => Invariant($"{v} bytes"));

        /// <summary>Bits 14:12: SDMA stops at every 4 KiB × 2^N boundary so the driver can move the address.</summary>
        public static readonly SdhciField SdmaBufferBoundary = Custom(S.SdmaBufferBoundary, "SDMA Buffer Boundary",
            static (v, _) => Invariant($"{4 << (int)v} KiB"));
    }

    /// <summary>0x06, 16-bit: Block Count of the current multi-block transfer.</summary>
    public static readonly SdhciRegister BlockCount = Reg(S.BlockCount, "Block Count", "SDHCI_BLOCK_COUNT",
        Number(0, 16, "Blocks Count For Current Transfer"));

    /// <summary>0x08, 32-bit: Argument 1, the command argument (bits 39:8 of the command frame).</summary>
    public static readonly SdhciRegister Argument = Reg(S.Argument, "Argument 1", "SDHCI_ARGUMENT");

    /// <summary>0x0C, 16-bit: Transfer Mode, written before the command that moves data.</summary>
    public static readonly SdhciRegister TransferMode = Reg(S.TransferMode, "Transfer Mode", "SDHCI_TRANSFER_MODE",
        TransferModeFields.DmaEnable, TransferModeFields.BlockCountEnable, TransferModeFields.AutoCmdEnable,
        TransferModeFields.DataTransferDirection, TransferModeFields.MultiBlockSelect);

    /// <summary>Fields of <see cref="TransferMode"/>.</summary>
    public static class TransferModeFields
    {
        /// <summary>Bit 0: move the data by DMA (SDMA or ADMA, as Host Control 1 selects).</summary>
        public static readonly SdhciField DmaEnable = Flag(S.DmaEnable, "DMA Enable");

        /// <summary>Bit 1: count blocks down in the Block Count register.</summary>
        public static readonly SdhciField BlockCountEnable = Flag(S.BlockCountEnable, "Block Count Enable");

        /// <summary>Bits 3:2: send CMD12 after, or CMD23 before, a multi-block transfer.</summary>
        public static readonly SdhciField AutoCmdEnable = Choice(S.AutoCmdEnable, "Auto CMD Enable",
            "disabled", "Auto CMD12", "Auto CMD23");

        /// <summary>Bit 4: read (card to host) when set.</summary>
        public static readonly SdhciField DataTransferDirection = Flag(S.DataTransferDirection, "Data Transfer Direction Select",
            "read (card to host)", "write (host to card)");

        /// <summary>Bit 5: multiple blocks when set.</summary>
        public static readonly SdhciField MultiBlockSelect = Flag(S.MultiBlockSelect, "Multi / Single Block Select",
            "multiple blocks", "single block");
    }

    /// <summary>0x0E, 16-bit: Command. Writing the upper byte issues the command.</summary>
    public static readonly SdhciRegister Command = Reg(S.Command, "Command", "SDHCI_COMMAND",
        CommandFields.ResponseTypeSelect, CommandFields.CommandCrcCheckEnable, CommandFields.CommandIndexCheckEnable,
        CommandFields.DataPresentSelect, CommandFields.CommandType, CommandFields.CommandIndex);

    /// <summary>Fields of <see cref="Command"/>.</summary>
    public static class CommandFields
    {
        /// <summary>Bits 1:0: response length, and whether the card signals busy after it.</summary>
        public static readonly SdhciField ResponseTypeSelect = Choice(S.ResponseTypeSelect, "Response Type Select",
            "no response", "136-bit (R2)", "48-bit (R1, R3, R6, R7)", "48-bit with busy (R1b)");

        /// <summary>Bit 3: check the response's CRC7.</summary>
        public static readonly SdhciField CommandCrcCheckEnable = Flag(S.CommandCrcCheckEnable, "Command CRC Check Enable");

        /// <summary>Bit 4: check that the response echoes the command index.</summary>
        public static readonly SdhciField CommandIndexCheckEnable = Flag(S.CommandIndexCheckEnable, "Command Index Check Enable");

        /// <summary>Bit 5: the command moves data on the DAT lines.</summary>
        public static readonly SdhciField DataPresentSelect = Flag(S.DataPresentSelect, "Data Present Select");

        /// <summary>Bits 7:6: normal, or the SDIO suspend/resume/abort commands.</summary>
        public static readonly SdhciField CommandType = Choice(6, 2, "Command Type",
            "normal", "suspend", "resume", "abort");

        /// <summary>Bits 13:8: the command number (CMD0 to CMD63).</summary>
        public static readonly SdhciField CommandIndex = Custom(S.CommandIndex, "Command Index",
            static (v, _) => Invariant($"CMD{v}"));
    }

    // ---- 0x10 to 0x23: response, data port ------------------------------------------------------

    /// <summary>0x10, 32-bit: Response bits 39:8 of a short response, or bits 31:0 of the 120 bits of R2 kept without CRC.</summary>
    public static readonly SdhciRegister Response0 = Reg(S.Response0, "Response 0", "SDHCI_RESPONSE");

    /// <summary>0x14, 32-bit: Response bits 63:32 (R2).</summary>
    public static readonly SdhciRegister Response1 = Reg(S.Response1, "Response 1", "SDHCI_RESPONSE + 4");

    /// <summary>0x18, 32-bit: Response bits 95:64 (R2).</summary>
    public static readonly SdhciRegister Response2 = Reg(S.Response2, "Response 2", "SDHCI_RESPONSE + 8");

    /// <summary>0x1C, 32-bit: Response bits 127:96 (R2), or the Auto CMD12 response in bits 31:0's place for short ones.</summary>
    public static readonly SdhciRegister Response3 = Reg(S.Response3, "Response 3", "SDHCI_RESPONSE + 12");

    /// <summary>0x20, 32-bit: Buffer Data Port. Each read pops data from the controller's FIFO, so nothing but a PIO transfer may read it.</summary>
    public static readonly SdhciRegister BufferDataPort = Reg(S.BufferDataPort, "Buffer Data Port", "SDHCI_BUFFER");

    // ---- 0x24 to 0x2F: present state and the host, power, gap, wakeup, clock, timeout, reset controls

    /// <summary>0x24, 32-bit: Present State: what the controller and the card lines are doing now.</summary>
    public static readonly SdhciRegister PresentState = Reg(S.PresentState, "Present State", "SDHCI_PRESENT_STATE",
        PresentStateFields.CommandInhibitCmd, PresentStateFields.CommandInhibitDat, PresentStateFields.DatLineActive,
        PresentStateFields.RetuningRequest, PresentStateFields.WriteTransferActive, PresentStateFields.ReadTransferActive,
        PresentStateFields.BufferWriteEnable, PresentStateFields.BufferReadEnable, PresentStateFields.CardInserted,
        PresentStateFields.CardStateStable, PresentStateFields.CardDetectPinLevel, PresentStateFields.WriteProtectPinLevel,
        PresentStateFields.DatLineSignalLevel, PresentStateFields.CmdLineSignalLevel);

    /// <summary>Fields of <see cref="PresentState"/>.</summary>
    public static class PresentStateFields
    {
        /// <summary>Bit 0: a command is in flight; the Command register may not be written.</summary>
        public static readonly SdhciField CommandInhibitCmd = Flag(S.CommandInhibitCmd, "Command Inhibit (CMD)");

        /// <summary>Bit 1: the DAT lines are busy; no command that uses them may be issued.</summary>
        public static readonly SdhciField CommandInhibitDat = Flag(S.CommandInhibitDat, "Command Inhibit (DAT)");

        /// <summary>Bit 2: a transfer or busy signal occupies the DAT lines.</summary>
        public static readonly SdhciField DatLineActive = Flag(2, "DAT Line Active");

        /// <summary>Bit 3: the controller asks for re-tuning (UHS-I).</summary>
        public static readonly SdhciField RetuningRequest = Flag(3, "Re-Tuning Request");

        /// <summary>Bit 8: a write transfer is running.</summary>
        public static readonly SdhciField WriteTransferActive = Flag(8, "Write Transfer Active");

        /// <summary>Bit 9: a read transfer is running.</summary>
        public static readonly SdhciField ReadTransferActive = Flag(9, "Read Transfer Active");

        /// <summary>Bit 10: the data port accepts a block (PIO write).</summary>
        public static readonly SdhciField BufferWriteEnable = Flag(10, "Buffer Write Enable");

        /// <summary>Bit 11: the data port holds a block (PIO read).</summary>
        public static readonly SdhciField BufferReadEnable = Flag(11, "Buffer Read Enable");

        /// <summary>Bit 16: a card is inserted (debounced).</summary>
        public static readonly SdhciField CardInserted = Flag(S.CardInserted, "Card Inserted");

        /// <summary>Bit 17: card detection has settled; <see cref="CardInserted"/> can be trusted.</summary>
        public static readonly SdhciField CardStateStable = Flag(17, "Card State Stable");

        /// <summary>Bit 18: the card detect pin, not debounced.</summary>
        public static readonly SdhciField CardDetectPinLevel = Flag(18, "Card Detect Pin Level", "card present", "no card");

        /// <summary>Bit 19: the write protect switch: set means writes are allowed.</summary>
        public static readonly SdhciField WriteProtectPinLevel = Flag(S.WriteProtectPinLevel, "Write Protect Switch Pin Level",
            "write enabled", "write protected");

        /// <summary>Bits 23:20: DAT[3:0] line levels; DAT0 low means the card is busy.</summary>
        public static readonly SdhciField DatLineSignalLevel = Custom(S.DatLineSignalLevel, "DAT[3:0] Line Signal Level",
            static (v, _) => Invariant($"DAT3..0 = {Convert.ToString((int)v, 2).PadLeft(4, '0')}{((v & 1) == 0 ? " (DAT0 low: card busy)" : "")}"));

        /// <summary>Bit 24: CMD line level.</summary>
        public static readonly SdhciField CmdLineSignalLevel = Flag(24, "CMD Line Signal Level", "high", "low");
    }

    /// <summary>0x28, 8-bit: Host Control 1: bus width, speed, DMA type, card detect test.</summary>
    public static readonly SdhciRegister HostControl1 = Reg(S.HostControl1, "Host Control 1", "SDHCI_HOST_CONTROL",
        HostControl1Fields.LedControl, HostControl1Fields.DataTransferWidth, HostControl1Fields.HighSpeedEnable,
        HostControl1Fields.DmaSelect, HostControl1Fields.ExtendedDataTransferWidth,
        HostControl1Fields.CardDetectTestLevel, HostControl1Fields.CardDetectSignalSelection);

    /// <summary>Fields of <see cref="HostControl1"/>.</summary>
    public static class HostControl1Fields
    {
        /// <summary>Bit 0: the activity LED.</summary>
        public static readonly SdhciField LedControl = Flag(0, "LED Control", "on", "off");

        /// <summary>Bit 1: 4-bit bus when set, 1-bit when clear (unless bit 5 selects 8-bit).</summary>
        public static readonly SdhciField DataTransferWidth = Flag(S.DataTransferWidth, "Data Transfer Width", "4-bit", "1-bit");

        /// <summary>Bit 2: drive the bus on the rising clock edge (high speed, up to 50 MHz).</summary>
        public static readonly SdhciField HighSpeedEnable = Flag(S.HighSpeedEnable, "High Speed Enable");

        /// <summary>Bits 4:3: which DMA engine <see cref="TransferModeFields.DmaEnable"/> starts.</summary>
        public static readonly SdhciField DmaSelect = Choice(S.DmaSelect, "DMA Select",
            "SDMA", "32-bit ADMA1 (2.00 only)", "32-bit ADMA2", "64-bit ADMA2");

        /// <summary>Bit 5: 8-bit bus (embedded devices).</summary>
        public static readonly SdhciField ExtendedDataTransferWidth = Flag(S.ExtendedDataTransferWidth, "Extended Data Transfer Width", "8-bit", "as bit 1 says");

        /// <summary>Bit 6: the card detect level to fake when bit 7 is set.</summary>
        public static readonly SdhciField CardDetectTestLevel = Flag(6, "Card Detect Test Level", "card inserted", "no card");

        /// <summary>Bit 7: take card detect from bit 6 instead of the pin (Arasan cores without a wired CD need it).</summary>
        public static readonly SdhciField CardDetectSignalSelection = Flag(7, "Card Detect Signal Selection",
            "test level (bit 6)", "card detect pin");
    }

    /// <summary>0x29, 8-bit: Power Control: VDD1 on/off and voltage.</summary>
    public static readonly SdhciRegister PowerControl = Reg(S.PowerControl, "Power Control", "SDHCI_POWER_CONTROL",
        PowerControlFields.SdBusPower, PowerControlFields.SdBusVoltageSelect);

    /// <summary>Fields of <see cref="PowerControl"/>.</summary>
    public static class PowerControlFields
    {
        /// <summary>Bit 0: power to the card.</summary>
        public static readonly SdhciField SdBusPower = Flag(S.SdBusPower, "SD Bus Power", "on", "off");

        /// <summary>Bits 3:1: 7 = 3.3 V, 6 = 3.0 V, 5 = 1.8 V.</summary>
        public static readonly SdhciField SdBusVoltageSelect = Choice(S.SdBusVoltageSelect, "SD Bus Voltage Select",
            "none", "", "", "", "", "1.8 V", "3.0 V", "3.3 V");
    }

    /// <summary>0x2A, 8-bit: Block Gap Control.</summary>
    public static readonly SdhciRegister BlockGapControl = Reg(S.BlockGapControl, "Block Gap Control", "SDHCI_BLOCK_GAP_CONTROL",
        Flag(0, "Stop At Block Gap Request"), Flag(1, "Continue Request"), Flag(2, "Read Wait Control"),
        Flag(3, "Interrupt At Block Gap"));

    /// <summary>0x2B, 8-bit: Wakeup Control.</summary>
    public static readonly SdhciRegister WakeupControl = Reg(S.WakeupControl, "Wakeup Control", "SDHCI_WAKE_UP_CONTROL",
        Flag(0, "Wakeup Event Enable On Card Interrupt"), Flag(1, "Wakeup Event Enable On SD Card Insertion"),
        Flag(2, "Wakeup Event Enable On SD Card Removal"));

    /// <summary>0x2C, 16-bit: Clock Control: internal clock, SD clock and its divider (see <see cref="SdhciClock"/>).</summary>
    public static readonly SdhciRegister ClockControl = Reg(S.ClockControl, "Clock Control", "SDHCI_CLOCK_CONTROL",
        ClockControlFields.InternalClockEnable, ClockControlFields.InternalClockStable, ClockControlFields.SdClockEnable,
        ClockControlFields.PllEnable, ClockControlFields.ClockGeneratorSelect, ClockControlFields.SdclkFrequencySelectUpper,
        ClockControlFields.SdclkFrequencySelect);

    /// <summary>Fields of <see cref="ClockControl"/>.</summary>
    public static class ClockControlFields
    {
        /// <summary>Bit 0: run the internal clock (needed before anything else works).</summary>
        public static readonly SdhciField InternalClockEnable = Flag(S.InternalClockEnable, "Internal Clock Enable");

        /// <summary>Bit 1: the internal clock has settled; wait for it before enabling the SD clock.</summary>
        public static readonly SdhciField InternalClockStable = Flag(S.InternalClockStable, "Internal Clock Stable");

        /// <summary>Bit 2: drive SDCLK to the card.</summary>
        public static readonly SdhciField SdClockEnable = Flag(S.SdClockEnable, "SD Clock Enable");

        /// <summary>Bit 3 (4.10): PLL Enable, for controllers whose clock comes from a PLL.</summary>
        public static readonly SdhciField PllEnable = Flag(3, "PLL Enable (4.10)");

        /// <summary>Bit 5: programmable clock mode when set, divided clock mode when clear.</summary>
        public static readonly SdhciField ClockGeneratorSelect = Flag(5, "Clock Generator Select", "programmable", "divided");

        /// <summary>Bits 7:6: divider bits 9:8 (spec 3.00).</summary>
        public static readonly SdhciField SdclkFrequencySelectUpper = Number(6, 2, "Upper Bits of SDCLK Frequency Select");

        /// <summary>Bits 15:8: divider bits 7:0.</summary>
        public static readonly SdhciField SdclkFrequencySelect = Number(8, 8, "SDCLK Frequency Select");
    }

    /// <summary>0x2E, 8-bit: Timeout Control: how long to wait for data or busy.</summary>
    public static readonly SdhciRegister TimeoutControl = Reg(S.TimeoutControl, "Timeout Control", "SDHCI_TIMEOUT_CONTROL",
        TimeoutControlFields.DataTimeoutCounterValue);

    /// <summary>Fields of <see cref="TimeoutControl"/>.</summary>
    public static class TimeoutControlFields
    {
        /// <summary>Bits 3:0: the data timeout is TMCLK × 2^(13 + N), N up to 14.</summary>
        public static readonly SdhciField DataTimeoutCounterValue = Custom(0, 4, "Data Timeout Counter Value", DescribeDataTimeout);

        private static string DescribeDataTimeout(ulong value, SdhciDecodeContext context)
        {
            if (value > 14)
                return Invariant($"reserved ({value})");
            var exponent = 13 + (int)value;
            var tmclk = context.Capabilities.TimeoutClockHz;
            if (tmclk == 0)
                return Invariant($"TMCLK x 2^{exponent}");
            var seconds = (double)(1L << exponent) / tmclk;
            var time = seconds >= 1 ? Invariant($"{seconds:0.###} s") : Invariant($"{seconds * 1000:0.###} ms");
            return Invariant($"TMCLK x 2^{exponent} = {time} at {FormatHz(tmclk)}");
        }
    }

    /// <summary>0x2F, 8-bit: Software Reset. The bits clear themselves when the reset is done.</summary>
    public static readonly SdhciRegister SoftwareReset = Reg(S.SoftwareReset, "Software Reset", "SDHCI_SOFTWARE_RESET",
        SoftwareResetFields.ResetAll, SoftwareResetFields.ResetCmdLine, SoftwareResetFields.ResetDatLine);

    /// <summary>Fields of <see cref="SoftwareReset"/>.</summary>
    public static class SoftwareResetFields
    {
        /// <summary>Bit 0: reset the whole controller except the card detect logic.</summary>
        public static readonly SdhciField ResetAll = Flag(0, "Software Reset For All");

        /// <summary>Bit 1: reset the command state machine (after a command error).</summary>
        public static readonly SdhciField ResetCmdLine = Flag(1, "Software Reset For CMD Line");

        /// <summary>Bit 2: reset the data path, FIFO and DMA (after a data error).</summary>
        public static readonly SdhciField ResetDatLine = Flag(2, "Software Reset For DAT Line");
    }

    // ---- 0x30 to 0x3F: interrupts, auto CMD errors, host control 2 -----------------------------

    /// <summary>0x30, 16-bit: Normal Interrupt Status (write 1 to clear); bit names in <see cref="SdhciInterrupt"/>.</summary>
    public static readonly SdhciRegister NormalInterruptStatus = InterruptReg(S.NormalInterruptStatus, "Normal Interrupt Status", "SDHCI_INT_STATUS", InterruptFields.Normal);

    /// <summary>0x32, 16-bit: Error Interrupt Status (write 1 to clear).</summary>
    public static readonly SdhciRegister ErrorInterruptStatus = InterruptReg(S.ErrorInterruptStatus, "Error Interrupt Status", "SDHCI_INT_STATUS + 2", InterruptFields.Error);

    /// <summary>0x34, 16-bit: Normal Interrupt Status Enable: which events are latched in the status register.</summary>
    public static readonly SdhciRegister NormalInterruptStatusEnable = InterruptReg(S.NormalInterruptStatusEnable, "Normal Interrupt Status Enable", "SDHCI_INT_ENABLE", InterruptFields.Normal);

    /// <summary>0x36, 16-bit: Error Interrupt Status Enable.</summary>
    public static readonly SdhciRegister ErrorInterruptStatusEnable = InterruptReg(S.ErrorInterruptStatusEnable, "Error Interrupt Status Enable", "SDHCI_INT_ENABLE + 2", InterruptFields.Error);

    /// <summary>0x38, 16-bit: Normal Interrupt Signal Enable: which latched events raise the interrupt line.</summary>
    public static readonly SdhciRegister NormalInterruptSignalEnable = InterruptReg(S.NormalInterruptSignalEnable, "Normal Interrupt Signal Enable", "SDHCI_SIGNAL_ENABLE", InterruptFields.Normal);

    /// <summary>0x3A, 16-bit: Error Interrupt Signal Enable.</summary>
    public static readonly SdhciRegister ErrorInterruptSignalEnable = InterruptReg(S.ErrorInterruptSignalEnable, "Error Interrupt Signal Enable", "SDHCI_SIGNAL_ENABLE + 2", InterruptFields.Error);

    /// <summary>The fields of the six interrupt registers, made from <see cref="SdhciInterrupt"/> so each bit is named once.</summary>
    public static class InterruptFields
    {
        /// <summary>Fields of the normal interrupt registers (0x30, 0x34, 0x38): <see cref="SdhciInterrupt"/> bits 15:0.</summary>
        public static IReadOnlyList<SdhciField> Normal { get; } = Make(error: false);

        /// <summary>Fields of the error interrupt registers (0x32, 0x36, 0x3A): <see cref="SdhciInterrupt"/> bits 31:16, shifted down.</summary>
        public static IReadOnlyList<SdhciField> Error { get; } = Make(error: true);

        private static SdhciField[] Make(bool error)
        {
            var fields = new List<SdhciField>();
            foreach (var flag in Enum.GetValues<SdhciInterrupt>())
            {
                if (flag == SdhciInterrupt.None)
                    continue;
                var bit = System.Numerics.BitOperations.TrailingZeroCount((uint)flag);
                if ((bit >= 16) == error)
                    fields.Add(Flag(error ? bit - 16 : bit, flag.ToString()));
            }

            return [.. fields];
        }
    }

    /// <summary>0x3C, 16-bit: Auto CMD Error Status: why the Auto CMD12/CMD23 the controller sent failed.</summary>
    public static readonly SdhciRegister AutoCmdErrorStatus = Reg(S.AutoCmdErrorStatus, "Auto CMD Error Status", "SDHCI_AUTO_CMD_STATUS",
        Flag(0, "Auto CMD12 Not Executed"), Flag(1, "Auto CMD Timeout Error"), Flag(2, "Auto CMD CRC Error"),
        Flag(3, "Auto CMD End Bit Error"), Flag(4, "Auto CMD Index Error"),
        Flag(7, "Command Not Issued By Auto CMD12 Error"));

    /// <summary>0x3E, 16-bit: Host Control 2 (spec 3.00): UHS-I mode, signalling voltage, tuning, presets.</summary>
    public static readonly SdhciRegister HostControl2 = Reg(S.HostControl2, "Host Control 2", "SDHCI_HOST_CONTROL2",
        HostControl2Fields.UhsModeSelect, HostControl2Fields.SignalingEnable18V, HostControl2Fields.DriverStrengthSelect,
        HostControl2Fields.ExecuteTuning, HostControl2Fields.SamplingClockSelect, HostControl2Fields.Cmd23Enable,
        HostControl2Fields.HostVersion4Enable, HostControl2Fields.Addressing64Bit,
        HostControl2Fields.AsynchronousInterruptEnable, HostControl2Fields.PresetValueEnable);

    /// <summary>Fields of <see cref="HostControl2"/>.</summary>
    public static class HostControl2Fields
    {
        /// <summary>Bits 2:0: bus speed mode; 5 is the kernel's non-standard HS400.</summary>
        public static readonly SdhciField UhsModeSelect = Choice(S.UhsModeSelect, "UHS Mode Select",
            "SDR12", "SDR25", "SDR50", "SDR104", "DDR50", "HS400 (vendor)");

        /// <summary>Bit 3: switch the bus signalling to 1.8 V.</summary>
        public static readonly SdhciField SignalingEnable18V = Flag(S.SignalingEnable18V, "1.8V Signaling Enable");

        /// <summary>Bits 5:4: output driver type.</summary>
        public static readonly SdhciField DriverStrengthSelect = Choice(4, 2, "Driver Strength Select",
            "Type B", "Type A", "Type C", "Type D");

        /// <summary>Bit 6: tuning in progress (cleared by the controller when done).</summary>
        public static readonly SdhciField ExecuteTuning = Flag(S.ExecuteTuning, "Execute Tuning");

        /// <summary>Bit 7: sample with the tuned clock.</summary>
        public static readonly SdhciField SamplingClockSelect = Flag(S.SamplingClockSelect, "Sampling Clock Select", "tuned clock", "fixed clock");

        /// <summary>Bit 11 (4.10): CMD23 Enable.</summary>
        public static readonly SdhciField Cmd23Enable = Flag(11, "CMD23 Enable (4.10)");

        /// <summary>Bit 12 (4.10): Host Version 4 Enable.</summary>
        public static readonly SdhciField HostVersion4Enable = Flag(S.HostVersion4Enable, "Host Version 4 Enable (4.10)");

        /// <summary>Bit 13 (4.10): 64-bit Addressing in version 4 mode.</summary>
        public static readonly SdhciField Addressing64Bit = Flag(S.Addressing64Bit, "64-bit Addressing (4.10)");

        /// <summary>Bit 14: let the card interrupt arrive without an SD clock.</summary>
        public static readonly SdhciField AsynchronousInterruptEnable = Flag(14, "Asynchronous Interrupt Enable");

        /// <summary>Bit 15: the controller takes clock divider and driver strength from the preset value registers.</summary>
        public static readonly SdhciField PresetValueEnable = Flag(15, "Preset Value Enable");
    }

    // ---- 0x40 to 0x4F: capabilities, maximum current ---------------------------------------------

    /// <summary>0x40, 64-bit read-only (two 32-bit reads: 0x40 is the kernel's Caps, 0x44 its Caps_1): what the controller can do.</summary>
    public static readonly SdhciRegister Capabilities = Reg(S.Capabilities, S.Capabilities1, "Capabilities", "SDHCI_CAPABILITIES",
        CapabilitiesFields.TimeoutClockFrequency, CapabilitiesFields.TimeoutClockUnit, CapabilitiesFields.BaseClockFrequency,
        CapabilitiesFields.MaxBlockLength, CapabilitiesFields.EightBitSupport, CapabilitiesFields.Adma2Support,
        CapabilitiesFields.Adma1Support, CapabilitiesFields.HighSpeedSupport, CapabilitiesFields.SdmaSupport,
        CapabilitiesFields.SuspendResumeSupport, CapabilitiesFields.Voltage33Support, CapabilitiesFields.Voltage30Support,
        CapabilitiesFields.Voltage18Support, CapabilitiesFields.SystemAddress64BitV4Support, CapabilitiesFields.SystemBus64BitSupport,
        CapabilitiesFields.AsynchronousInterruptSupport, CapabilitiesFields.SlotType, CapabilitiesFields.Sdr50Support,
        CapabilitiesFields.Sdr104Support, CapabilitiesFields.Ddr50Support, CapabilitiesFields.DriverTypeASupport,
        CapabilitiesFields.DriverTypeCSupport, CapabilitiesFields.DriverTypeDSupport, CapabilitiesFields.RetuningTimerCount,
        CapabilitiesFields.UseTuningForSdr50, CapabilitiesFields.RetuningModes, CapabilitiesFields.ClockMultiplier);

    /// <summary>Fields of <see cref="Capabilities"/>, numbered over all 64 bits; <see cref="SdhciCapabilities"/> decodes them with units.</summary>
    public static class CapabilitiesFields
    {
        /// <summary>Bits 5:0: timeout clock frequency, unit in bit 7; 0 = ask the platform.</summary>
        public static readonly SdhciField TimeoutClockFrequency = Custom(0, 6, "Timeout Clock Frequency",
            static (v, c) => v == 0 ? "0 (not given: ask the platform)" : FormatHz(c.Capabilities.TimeoutClockHz));

        /// <summary>Bit 7: timeout clock unit, MHz when set.</summary>
        public static readonly SdhciField TimeoutClockUnit = Flag(7, "Timeout Clock Unit", "MHz", "kHz");

        /// <summary>Bits 15:8 (3.00; 13:8 before): base clock in MHz; 0 = ask the platform.</summary>
        public static readonly SdhciField BaseClockFrequency = Custom(8, 8, "Base Clock Frequency For SD Clock",
            static (_, c) => c.Capabilities.BaseClockMHz == 0
                ? "0 (not given: ask the platform)"
                : Invariant($"{c.Capabilities.BaseClockMHz} MHz"));

        /// <summary>Bits 17:16: largest block the buffer takes: 512, 1024 or 2048 bytes.</summary>
        public static readonly SdhciField MaxBlockLength = Choice(16, 2, "Max Block Length",
            "512 bytes", "1024 bytes", "2048 bytes");

        /// <summary>Bit 18: 8-bit bus for embedded devices.</summary>
        public static readonly SdhciField EightBitSupport = Flag(18, "8-bit Support For Embedded Device");

        /// <summary>Bit 19: ADMA2.</summary>
        public static readonly SdhciField Adma2Support = Flag(19, "ADMA2 Support");

        /// <summary>Bit 20: ADMA1 (spec 2.00; reserved from 3.00).</summary>
        public static readonly SdhciField Adma1Support = Flag(20, "ADMA1 Support (2.00)");

        /// <summary>Bit 21: high speed (50 MHz).</summary>
        public static readonly SdhciField HighSpeedSupport = Flag(21, "High Speed Support");

        /// <summary>Bit 22: SDMA.</summary>
        public static readonly SdhciField SdmaSupport = Flag(22, "SDMA Support");

        /// <summary>Bit 23: SDIO suspend/resume.</summary>
        public static readonly SdhciField SuspendResumeSupport = Flag(23, "Suspend/Resume Support");

        /// <summary>Bit 24: 3.3 V.</summary>
        public static readonly SdhciField Voltage33Support = Flag(24, "Voltage Support 3.3V");

        /// <summary>Bit 25: 3.0 V.</summary>
        public static readonly SdhciField Voltage30Support = Flag(25, "Voltage Support 3.0V");

        /// <summary>Bit 26: 1.8 V.</summary>
        public static readonly SdhciField Voltage18Support = Flag(26, "Voltage Support 1.8V");

        /// <summary>Bit 27 (4.10): 64-bit system addresses in version 4 mode.</summary>
        public static readonly SdhciField SystemAddress64BitV4Support = Flag(27, "64-bit System Address Support For V4 (4.10)");

        /// <summary>Bit 28: 64-bit system bus: 64-bit ADMA2 descriptors and addresses.</summary>
        public static readonly SdhciField SystemBus64BitSupport = Flag(28, "64-bit System Bus Support");

        /// <summary>Bit 29: asynchronous interrupt.</summary>
        public static readonly SdhciField AsynchronousInterruptSupport = Flag(29, "Asynchronous Interrupt Support");

        /// <summary>Bits 31:30: removable, embedded or shared bus slot.</summary>
        public static readonly SdhciField SlotType = Choice(30, 2, "Slot Type",
            "removable card slot", "embedded slot for one device", "shared bus slot");

        /// <summary>Bit 32 (Caps_1 bit 0): SDR50.</summary>
        public static readonly SdhciField Sdr50Support = Flag(32, "SDR50 Support");

        /// <summary>Bit 33: SDR104.</summary>
        public static readonly SdhciField Sdr104Support = Flag(33, "SDR104 Support");

        /// <summary>Bit 34: DDR50.</summary>
        public static readonly SdhciField Ddr50Support = Flag(34, "DDR50 Support");

        /// <summary>Bit 36: driver type A.</summary>
        public static readonly SdhciField DriverTypeASupport = Flag(36, "Driver Type A Support");

        /// <summary>Bit 37: driver type C.</summary>
        public static readonly SdhciField DriverTypeCSupport = Flag(37, "Driver Type C Support");

        /// <summary>Bit 38: driver type D.</summary>
        public static readonly SdhciField DriverTypeDSupport = Flag(38, "Driver Type D Support");

        /// <summary>Bits 43:40: re-tuning period, 2^(N-1) seconds; 0 = off, 0xF = ask the platform.</summary>
        public static readonly SdhciField RetuningTimerCount = Custom(40, 4, "Timer Count For Re-Tuning", static (v, _) => v switch
        {
            0 => "0 (re-tuning timer disabled)",
            <= 0xB => Invariant($"{v} ({1 << ((int)v - 1)} s)"),
            0xF => "15 (given by another source)",
            _ => Invariant($"reserved ({v})"),
        });

        /// <summary>Bit 45: SDR50 needs tuning.</summary>
        public static readonly SdhciField UseTuningForSdr50 = Flag(45, "Use Tuning For SDR50");

        /// <summary>Bits 47:46: re-tuning mode 1, 2 or 3.</summary>
        public static readonly SdhciField RetuningModes = Choice(46, 2, "Re-Tuning Modes",
            "mode 1 (timer)", "mode 2 (timer and re-tuning request)", "mode 3 (auto re-tuning)");

        /// <summary>Bits 55:48: programmable clock multiplier minus one; 0 = no programmable clock mode.</summary>
        public static readonly SdhciField ClockMultiplier = Custom(48, 8, "Clock Multiplier",
            static (v, _) => v == 0 ? "0 (programmable clock mode not supported)" : Invariant($"{v} (x{v + 1})"));
    }

    /// <summary>0x48, 32-bit read-only: Maximum Current Capabilities per voltage, in 4 mA steps (0x4C to 0x4F are reserved).</summary>
    public static readonly SdhciRegister MaximumCurrent = Reg(S.MaximumCurrent, "Maximum Current Capabilities", "SDHCI_MAX_CURRENT",
        Custom(0, 8, "Maximum Current For 3.3V", DescribeCurrent),
        Custom(8, 8, "Maximum Current For 3.0V", DescribeCurrent),
        Custom(16, 8, "Maximum Current For 1.8V", DescribeCurrent));

    // ---- 0x50 to 0x5F: force event, ADMA ----------------------------------------------------------

    /// <summary>0x50, 16-bit write-only: Force Event For Auto CMD Error Status (sets those bits, for testing drivers).</summary>
    public static readonly SdhciRegister ForceEventAutoCmdError = Reg(S.ForceEventAutoCmdError, "Force Event For Auto CMD Error Status", "SDHCI_SET_ACMD12_ERROR");

    /// <summary>0x52, 16-bit write-only: Force Event For Error Interrupt Status.</summary>
    public static readonly SdhciRegister ForceEventErrorInterrupt = Reg(S.ForceEventErrorInterrupt, "Force Event For Error Interrupt Status", "SDHCI_SET_INT_ERROR");

    /// <summary>0x54, 8-bit read-only: ADMA Error Status (0x55 to 0x57 are reserved; the kernel reads 32 bits).</summary>
    public static readonly SdhciRegister AdmaErrorStatus = Reg(S.AdmaErrorStatus, "ADMA Error Status", "SDHCI_ADMA_ERROR",
        Choice(0, 2, "ADMA Error State",
            "ST_STOP (address points past the failing descriptor)", "ST_FDS (fetching a descriptor)", "", "ST_TFR (transferring data)"),
        Flag(2, "ADMA Length Mismatch Error"));

    /// <summary>0x58, 64-bit (two 32-bit reads; 0x5C is the kernel's SDHCI_ADMA_ADDRESS_HI): ADMA System Address, the descriptor being processed.</summary>
    public static readonly SdhciRegister AdmaSystemAddress = Reg(S.AdmaSystemAddress, S.AdmaSystemAddressHigh, "ADMA System Address", "SDHCI_ADMA_ADDRESS");

    // ---- 0x60 to 0x6F: preset values ----------------------------------------------------------------

    /// <summary>0x60, 16-bit: Preset Value for initialization (400 kHz identification).</summary>
    public static readonly SdhciRegister PresetInitialization = Preset(S.PresetInitialization, "Initialization", null);

    /// <summary>0x62, 16-bit: Preset Value for Default Speed.</summary>
    public static readonly SdhciRegister PresetDefaultSpeed = Preset(S.PresetDefaultSpeed, "Default Speed", null);

    /// <summary>0x64, 16-bit: Preset Value for High Speed.</summary>
    public static readonly SdhciRegister PresetHighSpeed = Preset(S.PresetHighSpeed, "High Speed", "SDHCI_PRESET_FOR_HIGH_SPEED");

    /// <summary>0x66, 16-bit: Preset Value for SDR12.</summary>
    public static readonly SdhciRegister PresetSdr12 = Preset(S.PresetSdr12, "SDR12", "SDHCI_PRESET_FOR_SDR12");

    /// <summary>0x68, 16-bit: Preset Value for SDR25.</summary>
    public static readonly SdhciRegister PresetSdr25 = Preset(S.PresetSdr25, "SDR25", "SDHCI_PRESET_FOR_SDR25");

    /// <summary>0x6A, 16-bit: Preset Value for SDR50.</summary>
    public static readonly SdhciRegister PresetSdr50 = Preset(S.PresetSdr50, "SDR50", "SDHCI_PRESET_FOR_SDR50");

    /// <summary>0x6C, 16-bit: Preset Value for SDR104.</summary>
    public static readonly SdhciRegister PresetSdr104 = Preset(S.PresetSdr104, "SDR104", "SDHCI_PRESET_FOR_SDR104");

    /// <summary>0x6E, 16-bit: Preset Value for DDR50.</summary>
    public static readonly SdhciRegister PresetDdr50 = Preset(S.PresetDdr50, "DDR50", "SDHCI_PRESET_FOR_DDR50");

    /// <summary>Fields shared by the eight preset value registers.</summary>
    public static class PresetValueFields
    {
        /// <summary>Bits 9:0: the clock divider N for this mode.</summary>
        public static readonly SdhciField SdclkFrequencySelectValue = Number(0, 10, "SDCLK Frequency Select Value");

        /// <summary>Bit 10: programmable clock mode for this mode.</summary>
        public static readonly SdhciField ClockGeneratorSelectValue = Flag(10, "Clock Generator Select Value", "programmable", "divided");

        /// <summary>Bits 15:14: driver strength for this mode.</summary>
        public static readonly SdhciField DriverStrengthSelectValue = Choice(14, 2, "Driver Strength Select Value",
            "Type B", "Type A", "Type C", "Type D");
    }

    /// <summary>The eight preset value registers, 0x60 to 0x6E.</summary>
    public static IReadOnlyList<SdhciRegister> PresetValues { get; } =
    [
        PresetInitialization, PresetDefaultSpeed, PresetHighSpeed, PresetSdr12, PresetSdr25, PresetSdr50, PresetSdr104, PresetDdr50,
    ];

    private static SdhciRegister Preset(Register16<SdhciBlock, Access.ReadOnly> register, string mode, string? kernelName) =>
        Reg(register, "Preset Value For " + mode, kernelName,
            PresetValueFields.SdclkFrequencySelectValue, PresetValueFields.ClockGeneratorSelectValue,
            PresetValueFields.DriverStrengthSelectValue);

    // ---- 0xE0 to 0xFF: shared bus, slot interrupt status, version ----------------------------------

    /// <summary>0xE0, 32-bit: Shared Bus Control, for controllers with a shared bus slot (reads 0 elsewhere).</summary>
    public static readonly SdhciRegister SharedBusControl = Reg(S.SharedBusControl, "Shared Bus Control", null,
        Number(0, 3, "Number Of Clock Pins"), Number(4, 2, "Number Of Interrupt Input Pins"),
        Number(8, 7, "Bus Width Preset"), Number(16, 3, "Clock Pin Select"), Number(20, 3, "Interrupt Pin Select"),
        Number(24, 7, "Back-End Power Control"));

    /// <summary>0xFC, 16-bit read-only: Slot Interrupt Status: which slot of a multi-slot controller interrupts.</summary>
    public static readonly SdhciRegister SlotInterruptStatus = Reg(S.SlotInterruptStatus, "Slot Interrupt Status", "SDHCI_SLOT_INT_STATUS",
        Custom(0, 8, "Interrupt Signal For Each Slot", static (v, _) => v == 0
            ? "none"
            : string.Join(", ", Enumerable.Range(0, 8).Where(slot => (v & (1UL << slot)) != 0).Select(slot => Invariant($"slot {slot}")))));

    /// <summary>0xFE, 16-bit read-only: Host Controller Version (see <see cref="SdhciHostVersion"/>).</summary>
    public static readonly SdhciRegister HostControllerVersion = Reg(S.HostControllerVersion, "Host Controller Version", "SDHCI_HOST_VERSION",
        HostControllerVersionFields.SpecificationVersion, HostControllerVersionFields.VendorVersion);

    /// <summary>Fields of <see cref="HostControllerVersion"/>.</summary>
    public static class HostControllerVersionFields
    {
        /// <summary>Bits 7:0: 0 = 1.00, 1 = 2.00, 2 = 3.00, 3 = 4.00, 4 = 4.10, 5 = 4.20.</summary>
        public static readonly SdhciField SpecificationVersion = Custom(0, 8, "Specification Version Number",
            static (v, _) => SdhciHostVersion.Text((SdhciSpecVersion)v));

        /// <summary>Bits 15:8: the vendor's own number.</summary>
        public static readonly SdhciField VendorVersion = Number(8, 8, "Vendor Version Number");
    }

    /// <summary>Every standard register, in the order of the specification's register map (the data port and write-only registers included).</summary>
    public static IReadOnlyList<SdhciRegister> All { get; } =
    [
        SdmaSystemAddress, BlockSize, BlockCount, Argument, TransferMode, Command,
        Response0, Response1, Response2, Response3, BufferDataPort,
        PresentState, HostControl1, PowerControl, BlockGapControl, WakeupControl, ClockControl, TimeoutControl, SoftwareReset,
        NormalInterruptStatus, ErrorInterruptStatus, NormalInterruptStatusEnable, ErrorInterruptStatusEnable,
        NormalInterruptSignalEnable, ErrorInterruptSignalEnable, AutoCmdErrorStatus, HostControl2,
        Capabilities, MaximumCurrent, ForceEventAutoCmdError, ForceEventErrorInterrupt, AdmaErrorStatus, AdmaSystemAddress,
        PresetInitialization, PresetDefaultSpeed, PresetHighSpeed, PresetSdr12, PresetSdr25, PresetSdr50, PresetSdr104, PresetDdr50,
        SharedBusControl, SlotInterruptStatus, HostControllerVersion,
    ];

    private static string DescribeCurrent(ulong value, SdhciDecodeContext context) =>
        value == 0 ? "0 (not given: ask the platform)" : Invariant($"{value * 4} mA");

    internal static string FormatHz(long hz) => hz switch
    {
        >= 1_000_000 when hz % 1_000_000 == 0 => Invariant($"{hz / 1_000_000} MHz"),
        >= 1_000_000 => Invariant($"{hz / 1_000_000.0:0.######} MHz"),
        >= 1_000 when hz % 1_000 == 0 => Invariant($"{hz / 1_000} kHz"),
        >= 1_000 => Invariant($"{hz / 1_000.0:0.###} kHz"),
        _ => Invariant($"{hz} Hz"),
    };

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
