using System.Globalization;

namespace Sdhci.Probe.Sdhci;

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
        : this(error, message, commandIndex, applicationCommand, interruptStatus, null)
    {
    }

    /// <summary>Creates the exception with the failure it follows from.</summary>
    /// <param name="error">The cause.</param>
    /// <param name="message">The whole message.</param>
    /// <param name="commandIndex">The command it happened in, if any.</param>
    /// <param name="applicationCommand">Whether that command was an application command (after CMD55).</param>
    /// <param name="interruptStatus">The normal and error interrupt status bits seen (0x30, 32 bits).</param>
    /// <param name="inner">The earlier exception this one reports on, or null.</param>
    public SdhciException(SdhciError error, string message, int? commandIndex, bool applicationCommand, SdhciInterrupt interruptStatus, Exception? inner)
        : base(message, inner)
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

    /// <summary>The card's state as CMD13 reported it after the failure (null when it was not asked, or did not answer).</summary>
    public SdCardState? CardState { get; init; }

    /// <summary>How many times the failed block command was retried before this exception (0: not retried).</summary>
    public int Retries { get; init; }

    /// <summary>This failure with <paramref name="note"/> appended to its message, the card state and the retries made; every register value kept.</summary>
    /// <param name="note">The sentence(s) to append.</param>
    /// <param name="state">The card state CMD13 reported, or null.</param>
    /// <param name="retries">Retries made.</param>
    /// <returns>A new exception, with this one as its inner exception.</returns>
    public SdhciException WithRecovery(string note, SdCardState? state, int retries) =>
        new(Error, Message + " " + note, CommandIndex, IsApplicationCommand, InterruptStatus, this)
        {
            AdmaErrorStatus = AdmaErrorStatus,
            AdmaDescriptorAddress = AdmaDescriptorAddress,
            AutoCmdErrorStatus = AutoCmdErrorStatus,
            CardStatus = CardStatus,
            CardState = state,
            Retries = retries,
        };

    /// <summary>The ADMA System Address register (0x58) read with <see cref="AdmaErrorStatus"/>: the descriptor at fault.</summary>
    public ulong? AdmaDescriptorAddress { get; init; }

    /// <summary>
    /// Every bit set in an Error Interrupt Status (0x32) value, by the specification's names (SD Host Controller
    /// 3.00, Error Interrupt Status register; bit 11, Response Error, from 4.00): "Command CRC Error, Data Timeout Error".
    /// </summary>
    /// <param name="errorStatus">The 16-bit register value.</param>
    /// <returns>The names, comma separated; "none" for 0.</returns>
    public static string DescribeErrorStatus(ushort errorStatus) => Names(errorStatus, ErrorNames);

    /// <summary>
    /// Every bit set in an Auto CMD Error Status (0x3C) value (SD Host Controller 3.00, Auto CMD Error Status
    /// register): bit 0 Auto CMD12 Not Executed, 1 Timeout, 2 CRC, 3 End Bit, 4 Index, 7 Command Not Issued By Auto CMD12.
    /// </summary>
    /// <param name="autoStatus">The 16-bit register value.</param>
    /// <returns>The names, comma separated; "none" for 0.</returns>
    public static string DescribeAutoCmdErrorStatus(ushort autoStatus) => Names(autoStatus, AutoCmdNames);

    private static readonly string?[] ErrorNames =
    [
        "Command Timeout Error", "Command CRC Error", "Command End Bit Error", "Command Index Error",
        "Data Timeout Error", "Data CRC Error", "Data End Bit Error", "Current Limit Error",
        "Auto CMD Error", "ADMA Error", "Tuning Error", "Response Error",
        "vendor-specific error bit 12", "vendor-specific error bit 13", "vendor-specific error bit 14", "vendor-specific error bit 15",
    ];

    private static readonly string?[] AutoCmdNames =
    [
        "Auto CMD12 Not Executed", "Auto CMD Timeout Error", "Auto CMD CRC Error", "Auto CMD End Bit Error",
        "Auto CMD Index Error", "Auto CMD Response Error", null, "Command Not Issued By Auto CMD12 Error",
    ];

    private static string Names(ushort value, string?[] names)
    {
        if (value == 0)
            return "none";
        var parts = new List<string>(4);
        for (var bit = 0; bit < 16; bit++)
        {
            if ((value & (1 << bit)) != 0)
                parts.Add(bit < names.Length && names[bit] is { } name ? name : $"reserved bit {bit.ToString(CultureInfo.InvariantCulture)}");
        }

        return string.Join(", ", parts);
    }

    internal static string Hex(uint value, int digits) => value.ToString("x" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
