using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// What Arasan's SDHCI cores add to the standard registers inside the controller's window, declared for the register
/// model: the vendor register in the standard block's reserved space and the eMMC command queue engine (CQHCI) the
/// 5.1 core maps at 0x200. Offsets, widths and access kinds are written here once; <see cref="ArasanRegisters"/>
/// describes them for the dump (names, the kernel's macros, fields). The driver does not touch them.
/// </summary>
/// <example>
/// <code>
/// var arasan = region.Bind&lt;ArasanBlock&gt;();
/// bool strobe = ArasanBlock.EnhancedStrobe.Get(arasan.Read(ArasanBlock.VendorRegister));
/// </code>
/// </example>
public readonly struct ArasanBlock : IRegisterBlock
{
    /// <summary>Where the 5.1 core's command queue engine starts.</summary>
    public const int CqeBase = 0x200;

    /// <inheritdoc/>
    public static string Name => "Arasan SDHCI";

    /// <inheritdoc/>
    public static int Size => 0x260;

    /// <summary>0x78, 32-bit: the Arasan vendor register (SDHCI_ARASAN_VENDOR_REGISTER), in the standard block's reserved space.</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> VendorRegister = new(0x78);

    /// <summary>Bit 0 of <see cref="VendorRegister"/>: eMMC HS400 enhanced strobe.</summary>
    public static readonly BitField<bool> EnhancedStrobe = new(0, 1);

    /// <summary>0x200 (CQHCI 0x00: Command Queueing Version.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqVersion = new(CqeBase + 0x00);

    /// <summary>0x204 (CQHCI 0x04: Command Queueing Capabilities.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqCapabilities = new(CqeBase + 0x04);

    /// <summary>0x208 (CQHCI 0x08: Command Queueing Configuration.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqConfiguration = new(CqeBase + 0x08);

    /// <summary>0x20C (CQHCI 0x0C: Command Queueing Control.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqControl = new(CqeBase + 0x0C);

    /// <summary>0x210 (CQHCI 0x10: Interrupt Status.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqInterruptStatus = new(CqeBase + 0x10);

    /// <summary>0x214 (CQHCI 0x14: Interrupt Status Enable.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqInterruptStatusEnable = new(CqeBase + 0x14);

    /// <summary>0x218 (CQHCI 0x18: Interrupt Signal Enable.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqInterruptSignalEnable = new(CqeBase + 0x18);

    /// <summary>0x21C (CQHCI 0x1C: Interrupt Coalescing.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqInterruptCoalescing = new(CqeBase + 0x1C);

    /// <summary>0x220 (CQHCI 0x20: Task Descriptor List Base Address, low 32 bits.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqTaskListBase = new(CqeBase + 0x20);

    /// <summary>0x224 (CQHCI 0x24: Task Descriptor List Base Address, upper 32 bits.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqTaskListBaseUpper = new(CqeBase + 0x24);

    /// <summary>0x228 (CQHCI 0x28: Task Doorbell.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqTaskDoorbell = new(CqeBase + 0x28);

    /// <summary>0x22C (CQHCI 0x2C: Task Completion Notification.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqTaskCompletion = new(CqeBase + 0x2C);

    /// <summary>0x230 (CQHCI 0x30: Device Queue Status.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqDeviceQueueStatus = new(CqeBase + 0x30);

    /// <summary>0x234 (CQHCI 0x34: Device Pending Tasks.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqDevicePendingTasks = new(CqeBase + 0x34);

    /// <summary>0x238 (CQHCI 0x38: Task Clear.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqTaskClear = new(CqeBase + 0x38);

    /// <summary>0x240 (CQHCI 0x40: Send Status Configuration 1 (polling period and block count).).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqSendStatusConfig1 = new(CqeBase + 0x40);

    /// <summary>0x244 (CQHCI 0x44: Send Status Configuration 2 (the card's RCA for CMD13).).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqSendStatusConfig2 = new(CqeBase + 0x44);

    /// <summary>0x248 (CQHCI 0x48: Command Response For Direct-Command Task.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqDirectCommandResponse = new(CqeBase + 0x48);

    /// <summary>0x250 (CQHCI 0x50: Response Mode Error Mask.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqResponseErrorMask = new(CqeBase + 0x50);

    /// <summary>0x254 (CQHCI 0x54: Task Error Information.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqTaskErrorInfo = new(CqeBase + 0x54);

    /// <summary>0x258 (CQHCI 0x58: Command Response Index.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqResponseIndex = new(CqeBase + 0x58);

    /// <summary>0x25C (CQHCI 0x5C: Command Response Argument.).</summary>
    public static readonly Register32<ArasanBlock, Access.ReadWrite> CqResponseArgument = new(CqeBase + 0x5C);
}
