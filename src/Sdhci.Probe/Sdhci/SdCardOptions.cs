namespace Sdhci.Probe.Sdhci;

/// <summary>Policies and timeouts of the card bring-up and block transfers.</summary>
/// <example>
/// <code>
/// var card = new SdCard(host, new SdCardOptions { MaxClockHz = 12_500_000, FourBitBus = false });
/// </code>
/// </example>
public sealed record SdCardOptions
{
    /// <summary>How long ACMD41 may report the card busy (the specification gives a card 1 s). Default 1 s.</summary>
    public TimeSpan InitializationTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Pause between ACMD41 polls. Default 10 ms, as Linux does.</summary>
    public TimeSpan InitializationPollInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// A cap on the SD clock after identification, below the bus speed mode's own limit (25 MHz Default
    /// Speed, 50 MHz High Speed); the card's TRAN_SPEED (in Default Speed) and the controller's dividers
    /// may lower it further. Default: no cap.
    /// </summary>
    public long MaxClockHz { get; init; } = long.MaxValue;

    /// <summary>The fastest bus speed mode to try; the card and the host may allow less. Default <see cref="SdBusSpeed.Sdr104"/>, the fastest this driver brings up.</summary>
    public SdBusSpeed MaxBusSpeed { get; init; } = SdBusSpeed.Sdr104;

    /// <summary>How long the host waits with 1.8V Signaling Enable set and the SD clock stopped (SD Host Controller 3.00, 3.6.1: 5 ms). Default 5 ms.</summary>
    public TimeSpan VoltageSwitchDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>How long bus power stays off when a failed voltage switch power-cycles the card (at least 1 ms). Default 10 ms.</summary>
    public TimeSpan PowerCycleDelay { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Switch card and host to the 4-bit bus when the card's SCR allows. Default true.</summary>
    public bool FourBitBus { get; init; } = true;

    /// <summary>Blocks per read or write command at most (the Block Count register allows 65535). Default 2048 (1 MiB).</summary>
    public int MaxBlocksPerCommand { get; init; } = 2048;

    /// <summary>How long a card may stay in the programming state after a write. Default 5 s.</summary>
    public TimeSpan ProgrammingTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How a multi-block read or write ends. Default <see cref="SdBlockCountMode.Auto"/>.</summary>
    public SdBlockCountMode BlockCountMode { get; init; } = SdBlockCountMode.Auto;

    /// <summary>
    /// How many times a block command (with its CMD23) is retried after a CRC, end-bit, index, timeout, ADMA or
    /// auto-CMD12 error, each time after the line resets, CMD13 and, where needed, CMD12. Default 4: five
    /// attempts in all, as Linux's block layer (core/block.c, MMC_MAX_RETRIES 5). 0 fails on the first error.
    /// </summary>
    public int Retries { get; init; } = DefaultRetries;

    /// <summary>The default of <see cref="Retries"/>.</summary>
    public const int DefaultRetries = 4;
}
