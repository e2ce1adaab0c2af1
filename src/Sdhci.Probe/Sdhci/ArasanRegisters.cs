using Vfio.Platform.Mmio;
using static Sdhci.Probe.Sdhci.SdhciField;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// What Arasan's SDHCI cores (Linux <c>sdhci-of-arasan</c>: "arasan,sdhci-8.9a", "arasan,sdhci-5.1",
/// "xlnx,zynqmp-8.9a") add to the standard registers and that can be read inside a 0x1000-byte window.
/// </summary>
/// <remarks>
/// <para>What the Linux driver touches, and why only part of it is here:</para>
/// <list type="bullet">
/// <item><description>
/// <see cref="VendorRegister"/> (0x78): the driver sets bit 0 for eMMC HS400 enhanced strobe. Modelled.
/// </description></item>
/// <item><description>
/// The eMMC command queue engine at 0x200 (CQHCI, only the 5.1 core with <c>supports-cqe</c>; the
/// ZynqMP's 8.9a core has none). Modelled in <see cref="Cqe"/>, read only on request: where no CQE
/// exists the addresses may be unbacked and a read can fault (QEMU's SDHCI model backs only 0x100
/// bytes of the ZCU102's 0x1000-byte window; what answers above that is up to the machine).
/// </description></item>
/// <item><description>
/// Versal's input and output tap delay registers at 0xF0F8 and 0xF0FC: outside a 0x1000-byte window,
/// so not modelled.
/// </description></item>
/// <item><description>
/// ZynqMP's tap delays and DLL reset: in IOU_SLCR, set through the platform firmware
/// (<c>zynqmp_pm_set_sd_tapdelay</c>, <c>zynqmp_pm_sd_dll_reset</c>), not in this window at all.
/// </description></item>
/// <item><description>
/// The corecfg fields some SoCs expose in a separate syscon (base clock, clock multiplier, 64-bit
/// support on Rockchip and Intel parts): not in this window either.
/// </description></item>
/// </list>
/// </remarks>
/// <example>
/// <code>
/// ulong vendor = io.Read(ArasanRegisters.VendorRegister);
/// bool strobe = ArasanRegisters.VendorRegisterFields.EnhancedStrobe.IsSet(vendor);
/// </code>
/// </example>
public static class ArasanRegisters
{
    /// <summary>
    /// 0x78, 32-bit: Arasan vendor register (the kernel's <c>SDHCI_ARASAN_VENDOR_REGISTER</c>), in the
    /// standard block's reserved space. Its only documented bit selects HS400 enhanced strobe.
    /// </summary>
    public static readonly SdhciRegister VendorRegister = new(ArasanBlock.VendorRegister.Offset, 4, "Arasan Vendor Register", "SDHCI_ARASAN_VENDOR_REGISTER",
        ArasanBlock.VendorRegister.Access, SdhciRegisterBlock.ArasanVendor, [VendorRegisterFields.EnhancedStrobe]);

    /// <summary>Fields of <see cref="VendorRegister"/>.</summary>
    public static class VendorRegisterFields
    {
        /// <summary>Bit 0: eMMC HS400 enhanced strobe (the card's data strobe also clocks responses).</summary>
        public static readonly SdhciField EnhancedStrobe = Flag(ArasanBlock.EnhancedStrobe, "Enhanced Strobe (HS400ES)");
    }

    /// <summary>Arasan vendor registers of the standard block, in address order.</summary>
    public static IReadOnlyList<SdhciRegister> Vendor { get; } = [VendorRegister];

    private static SdhciRegister CqeReg(Register32<ArasanBlock, Access.ReadWrite> register, string name, string kernelName, params SdhciField[] fields) =>
        new(register.Offset, 4, name, kernelName, register.Access, SdhciRegisterBlock.ArasanCqe, fields);

    /// <summary>CQHCI 0x00: Command Queueing Version.</summary>
    public static readonly SdhciRegister CqVersion = CqeReg(ArasanBlock.CqVersion, "CQ Version", "CQHCI_VER",
        Number(0, 4, "eMMC Version Suffix"), Number(4, 4, "eMMC Minor Version"), Number(8, 4, "eMMC Major Version"));

    /// <summary>CQHCI 0x04: Command Queueing Capabilities.</summary>
    public static readonly SdhciRegister CqCapabilities = CqeReg(ArasanBlock.CqCapabilities, "CQ Capabilities", "CQHCI_CAP",
        Number(0, 10, "Internal Timer Clock Frequency Value"), Number(12, 4, "Internal Timer Clock Frequency Multiplier"),
        Flag(28, "Crypto Support"));

    /// <summary>CQHCI 0x08: Command Queueing Configuration.</summary>
    public static readonly SdhciRegister CqConfiguration = CqeReg(ArasanBlock.CqConfiguration, "CQ Configuration", "CQHCI_CFG",
        Flag(0, "Command Queueing Enable"), Flag(1, "Crypto General Enable"),
        Flag(8, "Task Descriptor Size", "128 bits", "64 bits"), Flag(12, "Direct Command (DCMD) Enable"));

    /// <summary>CQHCI 0x0C: Command Queueing Control.</summary>
    public static readonly SdhciRegister CqControl = CqeReg(ArasanBlock.CqControl, "CQ Control", "CQHCI_CTL",
        Flag(0, "Halt"), Flag(8, "Clear All Tasks"));

    /// <summary>CQHCI 0x10: Interrupt Status.</summary>
    public static readonly SdhciRegister CqInterruptStatus = CqeReg(ArasanBlock.CqInterruptStatus, "CQ Interrupt Status", "CQHCI_IS", CqInterruptFields());

    /// <summary>CQHCI 0x14: Interrupt Status Enable.</summary>
    public static readonly SdhciRegister CqInterruptStatusEnable = CqeReg(ArasanBlock.CqInterruptStatusEnable, "CQ Interrupt Status Enable", "CQHCI_ISTE", CqInterruptFields());

    /// <summary>CQHCI 0x18: Interrupt Signal Enable.</summary>
    public static readonly SdhciRegister CqInterruptSignalEnable = CqeReg(ArasanBlock.CqInterruptSignalEnable, "CQ Interrupt Signal Enable", "CQHCI_ISGE", CqInterruptFields());

    /// <summary>CQHCI 0x1C: Interrupt Coalescing.</summary>
    public static readonly SdhciRegister CqInterruptCoalescing = CqeReg(ArasanBlock.CqInterruptCoalescing, "CQ Interrupt Coalescing", "CQHCI_IC",
        Number(0, 7, "Timeout Value"), Number(8, 5, "Counter Threshold"), Flag(31, "Interrupt Coalescing Enable"));

    /// <summary>CQHCI 0x20: Task Descriptor List Base Address, low 32 bits.</summary>
    public static readonly SdhciRegister CqTaskListBase = CqeReg(ArasanBlock.CqTaskListBase, "CQ Task Descriptor List Base Address", "CQHCI_TDLBA");

    /// <summary>CQHCI 0x24: Task Descriptor List Base Address, upper 32 bits.</summary>
    public static readonly SdhciRegister CqTaskListBaseUpper = CqeReg(ArasanBlock.CqTaskListBaseUpper, "CQ Task Descriptor List Base Address Upper", "CQHCI_TDLBAU");

    /// <summary>CQHCI 0x28: Task Doorbell.</summary>
    public static readonly SdhciRegister CqTaskDoorbell = CqeReg(ArasanBlock.CqTaskDoorbell, "CQ Task Doorbell", "CQHCI_TDBR");

    /// <summary>CQHCI 0x2C: Task Completion Notification.</summary>
    public static readonly SdhciRegister CqTaskCompletion = CqeReg(ArasanBlock.CqTaskCompletion, "CQ Task Completion Notification", "CQHCI_TCN");

    /// <summary>CQHCI 0x30: Device Queue Status.</summary>
    public static readonly SdhciRegister CqDeviceQueueStatus = CqeReg(ArasanBlock.CqDeviceQueueStatus, "CQ Device Queue Status", "CQHCI_DQS");

    /// <summary>CQHCI 0x34: Device Pending Tasks.</summary>
    public static readonly SdhciRegister CqDevicePendingTasks = CqeReg(ArasanBlock.CqDevicePendingTasks, "CQ Device Pending Tasks", "CQHCI_DPT");

    /// <summary>CQHCI 0x38: Task Clear.</summary>
    public static readonly SdhciRegister CqTaskClear = CqeReg(ArasanBlock.CqTaskClear, "CQ Task Clear", "CQHCI_TCLR");

    /// <summary>CQHCI 0x40: Send Status Configuration 1 (polling period and block count).</summary>
    public static readonly SdhciRegister CqSendStatusConfig1 = CqeReg(ArasanBlock.CqSendStatusConfig1, "CQ Send Status Configuration 1", "CQHCI_SSC1",
        Number(0, 16, "Send Status Command Idle Timer"), Number(16, 4, "Send Status Command Block Counter"));

    /// <summary>CQHCI 0x44: Send Status Configuration 2 (the card's RCA for CMD13).</summary>
    public static readonly SdhciRegister CqSendStatusConfig2 = CqeReg(ArasanBlock.CqSendStatusConfig2, "CQ Send Status Configuration 2", "CQHCI_SSC2",
        Number(0, 16, "Send Queue Status RCA"));

    /// <summary>CQHCI 0x48: Command Response For Direct-Command Task.</summary>
    public static readonly SdhciRegister CqDirectCommandResponse = CqeReg(ArasanBlock.CqDirectCommandResponse, "CQ Command Response For Direct-Command Task", "CQHCI_CRDCT");

    /// <summary>CQHCI 0x50: Response Mode Error Mask.</summary>
    public static readonly SdhciRegister CqResponseErrorMask = CqeReg(ArasanBlock.CqResponseErrorMask, "CQ Response Mode Error Mask", "CQHCI_RMEM");

    /// <summary>CQHCI 0x54: Task Error Information.</summary>
    public static readonly SdhciRegister CqTaskErrorInfo = CqeReg(ArasanBlock.CqTaskErrorInfo, "CQ Task Error Information", "CQHCI_TERRI",
        Number(0, 6, "Response Mode Error Command Index"), Number(8, 5, "Response Mode Error Task ID"),
        Flag(15, "Response Mode Error Fields Valid"), Number(16, 6, "Data Transfer Error Command Index"),
        Number(24, 5, "Data Transfer Error Task ID"), Flag(31, "Data Transfer Error Fields Valid"));

    /// <summary>CQHCI 0x58: Command Response Index.</summary>
    public static readonly SdhciRegister CqResponseIndex = CqeReg(ArasanBlock.CqResponseIndex, "CQ Command Response Index", "CQHCI_CRI",
        Number(0, 6, "Last Command Response Index"));

    /// <summary>CQHCI 0x5C: Command Response Argument.</summary>
    public static readonly SdhciRegister CqResponseArgument = CqeReg(ArasanBlock.CqResponseArgument, "CQ Command Response Argument", "CQHCI_CRA");

    /// <summary>The command queue engine's registers in address order.</summary>
    public static IReadOnlyList<SdhciRegister> Cqe { get; } =
    [
        CqVersion, CqCapabilities, CqConfiguration, CqControl, CqInterruptStatus, CqInterruptStatusEnable,
        CqInterruptSignalEnable, CqInterruptCoalescing, CqTaskListBase, CqTaskListBaseUpper, CqTaskDoorbell,
        CqTaskCompletion, CqDeviceQueueStatus, CqDevicePendingTasks, CqTaskClear, CqSendStatusConfig1,
        CqSendStatusConfig2, CqDirectCommandResponse, CqResponseErrorMask, CqTaskErrorInfo, CqResponseIndex,
        CqResponseArgument,
    ];

    private static SdhciField[] CqInterruptFields() =>
    [
        Flag(0, "Halt Complete"), Flag(1, "Task Complete"), Flag(2, "Response Error Detected"),
        Flag(3, "Task Cleared"), Flag(4, "General Crypto Error"), Flag(5, "Invalid Crypto Configuration Error"),
    ];
}
