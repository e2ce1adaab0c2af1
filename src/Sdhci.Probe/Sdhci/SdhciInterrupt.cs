using System.Diagnostics.CodeAnalysis;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The interrupt bits shared by the six interrupt registers: status (0x30/0x32), status enable
/// (0x34/0x36) and signal enable (0x38/0x3A). Bits 0 to 15 are the normal interrupt register,
/// bits 16 to 31 the error interrupt register that follows it, which is how the Linux kernel reads
/// each pair: one 32-bit access.
/// </summary>
/// <remarks>
/// This enum is the only place the bits are named: the register model derives the fields of all
/// six registers from it, so the decoder prints these exact names.
/// </remarks>
/// <example>
/// <code>
/// var status = (SdhciInterrupt)io.Read32(SdhciRegisters.NormalInterruptStatus.Offset);
/// if (status.HasFlag(SdhciInterrupt.CommandComplete))
///     io.Write32(SdhciRegisters.NormalInterruptStatus.Offset, (uint)SdhciInterrupt.CommandComplete); // write 1 to clear
/// </code>
/// </example>
[Flags]
[SuppressMessage("Design", "CA1028:Enum storage should be Int32", Justification = "The bits mirror a 32-bit hardware register; bit 31 must fit.")]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "Flag names follow the specification.")]
public enum SdhciInterrupt : uint
{
    /// <summary>No interrupt.</summary>
    None = 0,

    /// <summary>Bit 0: the command's response has arrived (or the command ended, for commands without one).</summary>
    CommandComplete = 1u << 0,

    /// <summary>Bit 1: a read or write transfer, or a busy signal, has finished.</summary>
    TransferComplete = 1u << 1,

    /// <summary>Bit 2: the transfer stopped at a block gap as requested.</summary>
    BlockGapEvent = 1u << 2,

    /// <summary>Bit 3: SDMA reached a buffer boundary, or ADMA met a descriptor with the Int attribute.</summary>
    DmaInterrupt = 1u << 3,

    /// <summary>Bit 4: the buffer data port can take a block (PIO writes).</summary>
    BufferWriteReady = 1u << 4,

    /// <summary>Bit 5: the buffer data port holds a block to read (PIO reads).</summary>
    BufferReadReady = 1u << 5,

    /// <summary>Bit 6: a card was inserted.</summary>
    CardInsertion = 1u << 6,

    /// <summary>Bit 7: the card was removed.</summary>
    CardRemoval = 1u << 7,

    /// <summary>Bit 8: an SDIO card signals an interrupt on DAT[1]; not cleared by writing 1.</summary>
    CardInterrupt = 1u << 8,

    /// <summary>Bit 9: INT_A of the shared bus (embedded devices).</summary>
    IntA = 1u << 9,

    /// <summary>Bit 10: INT_B of the shared bus.</summary>
    IntB = 1u << 10,

    /// <summary>Bit 11: INT_C of the shared bus.</summary>
    IntC = 1u << 11,

    /// <summary>Bit 12: the re-tuning timer expired or the controller wants re-tuning.</summary>
    RetuningEvent = 1u << 12,

    /// <summary>Bit 14: command queueing engine event (spec 4.10; Arasan 5.1's CQE raises it).</summary>
    CommandQueueing = 1u << 14,

    /// <summary>Bit 15: at least one bit of the error interrupt register (bits 16 to 31 here) is set.</summary>
    ErrorInterrupt = 1u << 15,

    /// <summary>Error bit 0: no response within 64 SD clocks.</summary>
    CommandTimeoutError = 1u << 16,

    /// <summary>Error bit 1: CRC error in the command response (or a CMD line conflict).</summary>
    CommandCrcError = 1u << 17,

    /// <summary>Error bit 2: the response's end bit was 0.</summary>
    CommandEndBitError = 1u << 18,

    /// <summary>Error bit 3: the response carried a different command index.</summary>
    CommandIndexError = 1u << 19,

    /// <summary>Error bit 4: data or busy timeout (see the Timeout Control register).</summary>
    DataTimeoutError = 1u << 20,

    /// <summary>Error bit 5: CRC error in read data, or a CRC status error on write.</summary>
    DataCrcError = 1u << 21,

    /// <summary>Error bit 6: a data end bit or CRC status end bit was 0.</summary>
    DataEndBitError = 1u << 22,

    /// <summary>Error bit 7: the card drew more than the current limit.</summary>
    CurrentLimitError = 1u << 23,

    /// <summary>Error bit 8: Auto CMD12/CMD23 failed; details in the Auto CMD Error Status register.</summary>
    AutoCmdError = 1u << 24,

    /// <summary>Error bit 9: ADMA failed; details in the ADMA Error Status register.</summary>
    AdmaError = 1u << 25,

    /// <summary>Error bit 10: the tuning procedure failed.</summary>
    TuningError = 1u << 26,

    /// <summary>Error bit 12: vendor specific.</summary>
    VendorSpecificError0 = 1u << 28,

    /// <summary>Error bit 13: vendor specific.</summary>
    VendorSpecificError1 = 1u << 29,

    /// <summary>Error bit 14: vendor specific.</summary>
    VendorSpecificError2 = 1u << 30,

    /// <summary>Error bit 15: vendor specific.</summary>
    VendorSpecificError3 = 1u << 31,
}
