using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The standard SDHCI register block (SD Host Controller Simplified Specification 3.00, 0x00 to 0xFF) for
/// Vfio.Platform's register model: every register's offset, width and access kind, and the typed fields the driver
/// reads and writes, written here and nowhere else. The driver (<see cref="SdhciHost{TBus}"/>) reads and writes these through a
/// <see cref="RegisterBlock{TBlock, TBus}"/>: on the device one volatile load or store each. The dump's
/// description of each register (name, the kernel's macro, fields) is in <see cref="SdhciRegisters"/>, built
/// from these.
/// </summary>
/// <remarks>
/// The 64-bit registers (Capabilities, ADMA System Address) are two 32-bit registers each: many SoC buses
/// reject a 64-bit load, and the kernel reads them in halves too. The interrupt registers appear twice: as the
/// specification's 16-bit Normal and Error halves (for the dump) and as the 32-bit pairs the driver services in
/// one access.
/// </remarks>
/// <example>
/// <code>
/// var regs = region.Bind&lt;SdhciBlock&gt;();
/// uint present = regs.Read(SdhciBlock.PresentState);
/// regs.Write(SdhciBlock.SoftwareReset, 0x01);
/// </code>
/// </example>
public readonly struct SdhciBlock : IRegisterBlock
{
    /// <inheritdoc/>
    public static string Name => "SDHCI";

    /// <inheritdoc/>
    public static int Size => 0x100;

    /// <summary>0x00, 32-bit: SDMA System Address, or Argument 2 (the CMD23 block count when Auto CMD23 is used).</summary>
    public static readonly Register32<SdhciBlock, Access.ReadWrite> SdmaSystemAddress = new(0x00);

    /// <summary>0x04, 16-bit: Block Size.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> BlockSize = new(0x04);

    /// <summary>BlockSize: Bits 11:0: bytes per block, 1 to 2048.</summary>
    public static readonly BitField<ushort> TransferBlockSize = new(0, 12);

    /// <summary>BlockSize: Bits 14:12: SDMA stops at every 4 KiB x 2^N boundary.</summary>
    public static readonly BitField<byte> SdmaBufferBoundary = new(12, 3);

    /// <summary>0x06, 16-bit: Block Count of the current multi-block transfer.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> BlockCount = new(0x06);

    /// <summary>0x08, 32-bit: Argument 1, the command argument (bits 39:8 of the command frame).</summary>
    public static readonly Register32<SdhciBlock, Access.ReadWrite> Argument = new(0x08);

    /// <summary>0x0C, 16-bit: Transfer Mode, written before the command that moves data.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> TransferMode = new(0x0C);

    /// <summary>TransferMode: Bit 0: move the data by DMA.</summary>
    public static readonly BitField<bool> DmaEnable = new(0, 1);

    /// <summary>TransferMode: Bit 1: count blocks down in Block Count.</summary>
    public static readonly BitField<bool> BlockCountEnable = new(1, 1);

    /// <summary>TransferMode: Bits 3:2: 1 = Auto CMD12, 2 = Auto CMD23.</summary>
    public static readonly BitField<byte> AutoCmdEnable = new(2, 2);

    /// <summary>TransferMode: Bit 4: read (card to host) when set.</summary>
    public static readonly BitField<bool> DataTransferDirection = new(4, 1);

    /// <summary>TransferMode: Bit 5: multiple blocks when set.</summary>
    public static readonly BitField<bool> MultiBlockSelect = new(5, 1);

    /// <summary>0x0E, 16-bit: Command. Writing the upper byte issues the command.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> Command = new(0x0E);

    /// <summary>Command: Bits 1:0: 0 none, 1 136-bit, 2 48-bit, 3 48-bit with busy.</summary>
    public static readonly BitField<byte> ResponseTypeSelect = new(0, 2);

    /// <summary>Command: Bit 3: check the response's CRC7.</summary>
    public static readonly BitField<bool> CommandCrcCheckEnable = new(3, 1);

    /// <summary>Command: Bit 4: check that the response echoes the index.</summary>
    public static readonly BitField<bool> CommandIndexCheckEnable = new(4, 1);

    /// <summary>Command: Bit 5: the command moves data.</summary>
    public static readonly BitField<bool> DataPresentSelect = new(5, 1);

    /// <summary>Command: Bits 13:8: the command number.</summary>
    public static readonly BitField<byte> CommandIndex = new(8, 6);

    /// <summary>0x10, 32-bit: Response bits 39:8 of a short response, or bits 31:0 of the 120 bits of R2 kept without CRC.</summary>
    public static readonly Register32<SdhciBlock, Access.ReadOnly> Response0 = new(0x10);

    /// <summary>0x14, 32-bit: Response bits 63:32 (R2).</summary>
    public static readonly Register32<SdhciBlock, Access.ReadOnly> Response1 = new(0x14);

    /// <summary>0x18, 32-bit: Response bits 95:64 (R2).</summary>
    public static readonly Register32<SdhciBlock, Access.ReadOnly> Response2 = new(0x18);

    /// <summary>0x1C, 32-bit: Response bits 127:96 (R2), or the Auto CMD12 response in bits 31:0's place for short ones.</summary>
    public static readonly Register32<SdhciBlock, Access.ReadOnly> Response3 = new(0x1C);

    /// <summary>0x20, 32-bit: Buffer Data Port. Each read pops data from the controller's FIFO, so nothing but a PIO transfer may read it.</summary>
    public static readonly Register32<SdhciBlock, Access.DataPort> BufferDataPort = new(0x20);

    /// <summary>0x24, 32-bit: Present State: what the controller and the card lines are doing now.</summary>
    public static readonly Register32<SdhciBlock, Access.ReadOnly> PresentState = new(0x24);

    /// <summary>PresentState: Bit 0: Command Inhibit (CMD).</summary>
    public static readonly BitField<bool> CommandInhibitCmd = new(0, 1);

    /// <summary>PresentState: Bit 1: Command Inhibit (DAT).</summary>
    public static readonly BitField<bool> CommandInhibitDat = new(1, 1);

    /// <summary>PresentState: Bit 16: Card Inserted.</summary>
    public static readonly BitField<bool> CardInserted = new(16, 1);

    /// <summary>PresentState: Bit 19: Write Protect Switch Pin Level (1 = write enabled).</summary>
    public static readonly BitField<bool> WriteProtectPinLevel = new(19, 1);

    /// <summary>PresentState: Bits 23:20: DAT[3:0] line levels.</summary>
    public static readonly BitField<byte> DatLineSignalLevel = new(20, 4);

    /// <summary>0x28, 8-bit: Host Control 1: bus width, speed, DMA type, card detect test.</summary>
    public static readonly Register8<SdhciBlock, Access.ReadWrite> HostControl1 = new(0x28);

    /// <summary>HostControl1: Bit 1: 4-bit bus when set.</summary>
    public static readonly BitField<bool> DataTransferWidth = new(1, 1);

    /// <summary>HostControl1: Bit 2: High Speed Enable.</summary>
    public static readonly BitField<bool> HighSpeedEnable = new(2, 1);

    /// <summary>HostControl1: Bits 4:3: 0 SDMA, 2 32-bit ADMA2, 3 64-bit ADMA2.</summary>
    public static readonly BitField<byte> DmaSelect = new(3, 2);

    /// <summary>HostControl1: Bit 5: 8-bit bus when set.</summary>
    public static readonly BitField<bool> ExtendedDataTransferWidth = new(5, 1);

    /// <summary>0x29, 8-bit: Power Control: VDD1 on/off and voltage.</summary>
    public static readonly Register8<SdhciBlock, Access.ReadWrite> PowerControl = new(0x29);

    /// <summary>PowerControl: Bit 0: SD Bus Power.</summary>
    public static readonly BitField<bool> SdBusPower = new(0, 1);

    /// <summary>PowerControl: Bits 3:1: SD Bus Voltage Select.</summary>
    public static readonly BitField<SdhciBusVoltage> SdBusVoltageSelect = new(1, 3);

    /// <summary>0x2A, 8-bit: Block Gap Control.</summary>
    public static readonly Register8<SdhciBlock, Access.ReadWrite> BlockGapControl = new(0x2A);

    /// <summary>0x2B, 8-bit: Wakeup Control.</summary>
    public static readonly Register8<SdhciBlock, Access.ReadWrite> WakeupControl = new(0x2B);

    /// <summary>0x2C, 16-bit: Clock Control: internal clock, SD clock and its divider (see <see cref="SdhciClock"/>).</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> ClockControl = new(0x2C);

    /// <summary>ClockControl: Bit 0: Internal Clock Enable.</summary>
    public static readonly BitField<bool> InternalClockEnable = new(0, 1);

    /// <summary>ClockControl: Bit 1: Internal Clock Stable.</summary>
    public static readonly BitField<bool> InternalClockStable = new(1, 1);

    /// <summary>ClockControl: Bit 2: SD Clock Enable.</summary>
    public static readonly BitField<bool> SdClockEnable = new(2, 1);

    /// <summary>0x2E, 8-bit: Timeout Control: how long to wait for data or busy.</summary>
    public static readonly Register8<SdhciBlock, Access.ReadWrite> TimeoutControl = new(0x2E);

    /// <summary>0x2F, 8-bit: Software Reset. The bits clear themselves when the reset is done.</summary>
    public static readonly Register8<SdhciBlock, Access.ReadWrite> SoftwareReset = new(0x2F);

    /// <summary>0x30, 16-bit: Normal Interrupt Status (write 1 to clear); bit names in <see cref="SdhciInterrupt"/>.</summary>
    public static readonly Register16<SdhciBlock, Access.WriteOneToClear> NormalInterruptStatus = new(0x30);

    /// <summary>0x32, 16-bit: Error Interrupt Status (write 1 to clear).</summary>
    public static readonly Register16<SdhciBlock, Access.WriteOneToClear> ErrorInterruptStatus = new(0x32);

    /// <summary>0x34, 16-bit: Normal Interrupt Status Enable: which events are latched in the status register.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> NormalInterruptStatusEnable = new(0x34);

    /// <summary>0x36, 16-bit: Error Interrupt Status Enable.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> ErrorInterruptStatusEnable = new(0x36);

    /// <summary>0x38, 16-bit: Normal Interrupt Signal Enable: which latched events raise the interrupt line.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> NormalInterruptSignalEnable = new(0x38);

    /// <summary>0x3A, 16-bit: Error Interrupt Signal Enable.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> ErrorInterruptSignalEnable = new(0x3A);

    /// <summary>0x30, 32-bit: Normal (bits 15:0) and Error (bits 31:16) Interrupt Status in one access, as the driver services them.</summary>
    public static readonly Register32<SdhciBlock, Access.WriteOneToClear> InterruptStatus = new(0x30);

    /// <summary>0x34, 32-bit: Normal and Error Interrupt Status Enable in one access.</summary>
    public static readonly Register32<SdhciBlock, Access.ReadWrite> InterruptStatusEnable = new(0x34);

    /// <summary>0x38, 32-bit: Normal and Error Interrupt Signal Enable in one access.</summary>
    public static readonly Register32<SdhciBlock, Access.ReadWrite> InterruptSignalEnable = new(0x38);

    /// <summary>0x3C, 16-bit: Auto CMD Error Status: why the Auto CMD12/CMD23 the controller sent failed.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> AutoCmdErrorStatus = new(0x3C);

    /// <summary>0x3E, 16-bit: Host Control 2 (spec 3.00): UHS-I mode, signalling voltage, tuning, presets.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadWrite> HostControl2 = new(0x3E);

    /// <summary>HostControl2: Bits 2:0: UHS Mode Select (1 SDR25, 2 SDR50, 3 SDR104, 4 DDR50: the values of SdBusSpeed).</summary>
    public static readonly BitField<SdBusSpeed> UhsModeSelect = new(0, 3);

    /// <summary>HostControl2: Bit 3: 1.8V Signaling Enable.</summary>
    public static readonly BitField<bool> SignalingEnable18V = new(3, 1);

    /// <summary>HostControl2: Bit 6: Execute Tuning.</summary>
    public static readonly BitField<bool> ExecuteTuning = new(6, 1);

    /// <summary>HostControl2: Bit 7: Sampling Clock Select (tuned clock when set).</summary>
    public static readonly BitField<bool> SamplingClockSelect = new(7, 1);

    /// <summary>HostControl2: Bit 12: Host Version 4 Enable (4.10).</summary>
    public static readonly BitField<bool> HostVersion4Enable = new(12, 1);

    /// <summary>HostControl2: Bit 13: 64-bit Addressing (4.10).</summary>
    public static readonly BitField<bool> Addressing64Bit = new(13, 1);

    /// <summary>0x40, 32-bit read-only: Capabilities bits 31:0 (the kernel's SDHCI_CAPABILITIES).</summary>
    public static readonly Register32<SdhciBlock, Access.ReadOnly> Capabilities = new(0x40);

    /// <summary>0x44, 32-bit read-only: Capabilities bits 63:32 (SDHCI_CAPABILITIES_1).</summary>
    public static readonly Register32<SdhciBlock, Access.ReadOnly> Capabilities1 = new(0x44);

    /// <summary>0x48, 32-bit read-only: Maximum Current Capabilities per voltage, in 4 mA steps (0x4C to 0x4F are reserved).</summary>
    public static readonly Register32<SdhciBlock, Access.ReadOnly> MaximumCurrent = new(0x48);

    /// <summary>0x50, 16-bit write-only: Force Event For Auto CMD Error Status (sets those bits, for testing drivers).</summary>
    public static readonly Register16<SdhciBlock, Access.WriteOnly> ForceEventAutoCmdError = new(0x50);

    /// <summary>0x52, 16-bit write-only: Force Event For Error Interrupt Status.</summary>
    public static readonly Register16<SdhciBlock, Access.WriteOnly> ForceEventErrorInterrupt = new(0x52);

    /// <summary>0x54, 8-bit read-only: ADMA Error Status (0x55 to 0x57 are reserved; the kernel reads 32 bits).</summary>
    public static readonly Register8<SdhciBlock, Access.ReadOnly> AdmaErrorStatus = new(0x54);

    /// <summary>0x58, 32-bit: ADMA System Address bits 31:0, the descriptor being processed.</summary>
    public static readonly Register32<SdhciBlock, Access.ReadWrite> AdmaSystemAddress = new(0x58);

    /// <summary>0x5C, 32-bit: ADMA System Address bits 63:32 (SDHCI_ADMA_ADDRESS_HI), with 64-bit addressing only.</summary>
    public static readonly Register32<SdhciBlock, Access.ReadWrite> AdmaSystemAddressHigh = new(0x5C);

    /// <summary>0x60, 16-bit: Preset Value for initialization (400 kHz identification).</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> PresetInitialization = new(0x60);

    /// <summary>0x62, 16-bit: Preset Value for Default Speed.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> PresetDefaultSpeed = new(0x62);

    /// <summary>0x64, 16-bit: Preset Value for High Speed.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> PresetHighSpeed = new(0x64);

    /// <summary>0x66, 16-bit: Preset Value for SDR12.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> PresetSdr12 = new(0x66);

    /// <summary>0x68, 16-bit: Preset Value for SDR25.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> PresetSdr25 = new(0x68);

    /// <summary>0x6A, 16-bit: Preset Value for SDR50.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> PresetSdr50 = new(0x6A);

    /// <summary>0x6C, 16-bit: Preset Value for SDR104.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> PresetSdr104 = new(0x6C);

    /// <summary>0x6E, 16-bit: Preset Value for DDR50.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> PresetDdr50 = new(0x6E);

    /// <summary>0xE0, 32-bit: Shared Bus Control, for controllers with a shared bus slot (reads 0 elsewhere).</summary>
    public static readonly Register32<SdhciBlock, Access.ReadWrite> SharedBusControl = new(0xE0);

    /// <summary>0xFC, 16-bit read-only: Slot Interrupt Status: which slot of a multi-slot controller interrupts.</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> SlotInterruptStatus = new(0xFC);

    /// <summary>0xFE, 16-bit read-only: Host Controller Version (see <see cref="SdhciHostVersion"/>).</summary>
    public static readonly Register16<SdhciBlock, Access.ReadOnly> HostControllerVersion = new(0xFE);
}
