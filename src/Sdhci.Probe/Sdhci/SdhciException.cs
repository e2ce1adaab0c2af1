using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>What went wrong, one value per cause a person would act on differently.</summary>
public enum SdhciError
{
    /// <summary>Present State (0x24) says no card is inserted.</summary>
    NoCard,

    /// <summary>The registers read all zeros or all ones: the controller is not answering (clock gated, powered down).</summary>
    ControllerNotResponding,

    /// <summary>A Software Reset bit (0x2F) did not clear in time.</summary>
    ResetTimeout,

    /// <summary>Internal Clock Stable (0x2C bit 1) never came.</summary>
    ClockNotStable,

    /// <summary>The controller has no base clock in its capabilities and none was given.</summary>
    NoBaseClock,

    /// <summary>The controller offers no supply voltage an SD card starts at (3.3 V or 3.0 V).</summary>
    NoUsableVoltage,

    /// <summary>Command Inhibit (CMD or DAT) stayed set: the previous command or transfer never ended.</summary>
    LineBusy,

    /// <summary>The controller raised neither completion nor error in time (no interrupt, or it was lost).</summary>
    Timeout,

    /// <summary>Error status bit 0: the card did not answer the command.</summary>
    CommandTimeout,

    /// <summary>Error status bit 1: the response's CRC was wrong (or the CMD line conflicted).</summary>
    CommandCrc,

    /// <summary>Error status bit 2: the response's end bit was 0.</summary>
    CommandEndBit,

    /// <summary>Error status bit 3: the response carried another command's index.</summary>
    CommandIndex,

    /// <summary>Error status bit 4: data (or the end of busy) did not come in time.</summary>
    DataTimeout,

    /// <summary>Error status bit 5: CRC error in the data.</summary>
    DataCrc,

    /// <summary>Error status bit 6: data end bit error.</summary>
    DataEndBit,

    /// <summary>Error status bit 7: the card drew more current than allowed.</summary>
    CurrentLimit,

    /// <summary>Error status bit 8: the Auto CMD12 failed (details in <see cref="SdhciException.AutoCmdErrorStatus"/>).</summary>
    AutoCommand,

    /// <summary>Error status bit 9: the ADMA engine failed (details in <see cref="SdhciException.AdmaErrorStatus"/>).</summary>
    Adma,

    /// <summary>The card's R1 status reports an error (out of range, illegal command, ...).</summary>
    CardStatus,

    /// <summary>ACMD41 never reported the card ready.</summary>
    CardBusy,

    /// <summary>The card answered in a way this host cannot work with (CMD8 echo, voltage window, no APP_CMD).</summary>
    UnusableCard,

    /// <summary>The controller lacks what was asked for (SDMA, ADMA2, an 8-bit bus).</summary>
    NotSupported,

    /// <summary>A write was refused before any command: the slot's write-protect switch, or the CSD's TMP_WRITE_PROTECT or PERM_WRITE_PROTECT.</summary>
    WriteProtected,
}

/// <summary>
/// A failed controller or card operation: the cause, the command it happened in, and the raw
/// interrupt status the controller reported, with a message that says what to do.
/// </summary>
/// <example>
/// <code>
/// try { card.Initialize(); }
/// catch (SdhciException e) when (e.Error == SdhciError.NoCard) { Console.Error.WriteLine(e.Message); }
/// catch (SdhciException e) { Console.Error.WriteLine($"{e.Command}: 0x{e.ErrorInterruptStatus:x4}"); }
/// </code>
/// </example>
public sealed class SdhciException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="error">The cause.</param>
    /// <param name="message">The whole message.</param>
    /// <param name="commandIndex">The command it happened in, if any.</param>
    /// <param name="applicationCommand">Whether that command was an application command (after CMD55).</param>
    /// <param name="interruptStatus">The normal and error interrupt status bits seen (0x30, 32 bits).</param>
    public SdhciException(SdhciError error, string message, int? commandIndex = null, bool applicationCommand = false,
        SdhciInterrupt interruptStatus = SdhciInterrupt.None)
        : base(message)
    {
        Error = error;
        CommandIndex = commandIndex;
        IsApplicationCommand = applicationCommand;
        InterruptStatus = interruptStatus;
    }

    /// <summary>The cause.</summary>
    public SdhciError Error { get; }

    /// <summary>The index of the command that failed, or null when no command was involved (reset, clock).</summary>
    public int? CommandIndex { get; }

    /// <summary>Whether <see cref="CommandIndex"/> is an application command (ACMDn).</summary>
    public bool IsApplicationCommand { get; }

    /// <summary>"CMD17 (READ_SINGLE_BLOCK)", or null.</summary>
    public string? Command => CommandIndex is { } index ? SdCommandNames.Describe(index, IsApplicationCommand) : null;

    /// <summary>The interrupt status bits the engine had collected when it failed (normal bits 15:0, error bits 31:16).</summary>
    public SdhciInterrupt InterruptStatus { get; }

    /// <summary>The raw Error Interrupt Status register (0x32) as it was seen.</summary>
    public ushort ErrorInterruptStatus => (ushort)((uint)InterruptStatus >> 16);

    /// <summary>The ADMA Error Status register (0x54) for <see cref="SdhciError.Adma"/>.</summary>
    public byte? AdmaErrorStatus { get; init; }

    /// <summary>The Auto CMD Error Status register (0x3C) for <see cref="SdhciError.AutoCommand"/>.</summary>
    public ushort? AutoCmdErrorStatus { get; init; }

    /// <summary>The card's R1 status for <see cref="SdhciError.CardStatus"/> and <see cref="SdhciError.CardBusy"/> (the OCR there).</summary>
    public uint? CardStatus { get; init; }

    internal static string Hex(uint value, int digits) => value.ToString("x" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
