using System.Diagnostics.CodeAnalysis;

namespace Sdhci.Probe.Sdhci;

/// <summary>The card status an R1 response carries (SD Physical Layer Specification, "Card Status"); bits 12:9 hold <see cref="SdCardState"/>.</summary>
/// <example>
/// <code>
/// var status = (SdCardStatus)host.SendCommand(13, (uint)rca &lt;&lt; 16, SdResponseType.R1).Value;
/// bool ready = status.HasFlag(SdCardStatus.ReadyForData);
/// SdCardState state = SdCardStatusInfo.State((uint)status);
/// </code>
/// </example>
[Flags]
[SuppressMessage("Design", "CA1028:Enum storage should be Int32", Justification = "Mirrors the 32-bit card status; bit 31 must fit.")]
public enum SdCardStatus : uint
{
    /// <summary>Nothing set.</summary>
    None = 0,

    /// <summary>Bit 3: authentication sequence error.</summary>
    AkeSeqError = 1u << 3,

    /// <summary>Bit 5: the card will take the next command as an application command.</summary>
    AppCmd = 1u << 5,

    /// <summary>Bit 6: extension functions event.</summary>
    FxEvent = 1u << 6,

    /// <summary>Bit 8: the buffer is empty: the card takes data.</summary>
    ReadyForData = 1u << 8,

    /// <summary>Bit 13: an erase sequence was cleared.</summary>
    EraseReset = 1u << 13,

    /// <summary>Bit 14: the card's internal ECC is off.</summary>
    CardEccDisabled = 1u << 14,

    /// <summary>Bit 15: protected blocks were skipped in an erase.</summary>
    WpEraseSkip = 1u << 15,

    /// <summary>Bit 16: a CSD write failed.</summary>
    CsdOverwrite = 1u << 16,

    /// <summary>Bit 19: a general or unknown error.</summary>
    Error = 1u << 19,

    /// <summary>Bit 20: internal card controller error.</summary>
    CcError = 1u << 20,

    /// <summary>Bit 21: the card's ECC failed to correct the data.</summary>
    CardEccFailed = 1u << 21,

    /// <summary>Bit 22: the previous command was not legal in the card's state.</summary>
    IllegalCommand = 1u << 22,

    /// <summary>Bit 23: the previous command's CRC check failed.</summary>
    ComCrcError = 1u << 23,

    /// <summary>Bit 24: a lock or unlock command failed.</summary>
    LockUnlockFailed = 1u << 24,

    /// <summary>Bit 25: the card is locked.</summary>
    CardIsLocked = 1u << 25,

    /// <summary>Bit 26: a write to a protected block.</summary>
    WpViolation = 1u << 26,

    /// <summary>Bit 27: invalid erase block selection.</summary>
    EraseParam = 1u << 27,

    /// <summary>Bit 28: erase commands in the wrong order.</summary>
    EraseSeqError = 1u << 28,

    /// <summary>Bit 29: a block length the card does not allow.</summary>
    BlockLenError = 1u << 29,

    /// <summary>Bit 30: a misaligned address.</summary>
    AddressError = 1u << 30,

    /// <summary>Bit 31: the argument was out of the card's range.</summary>
    OutOfRange = 1u << 31,
}
