namespace Sdhci.Probe.Sdhci;

/// <summary>Timeouts and policies of <see cref="SdhciHost"/>. Every wait of the engine has one of these bounds.</summary>
/// <example>
/// <code>
/// var host = new SdhciHost(io, irq, new SdhciHostOptions { CommandTimeout = TimeSpan.FromMilliseconds(250), AllowWrite = false });
/// </code>
/// </example>
public sealed record SdhciHostOptions
{
    /// <summary>From writing the Command register to Command Complete (the card answers within 64 clocks; this covers slow emulation). Default 1 s.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Each wait of a data phase (a block ready, a DMA boundary, Transfer Complete) and of an R1b busy. Default 10 s.</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>For a Software Reset bit to clear. Default 1 s (the kernel allows 100 ms; emulators are slower).</summary>
    public TimeSpan ResetTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>For Internal Clock Stable. Default 1 s (the kernel allows 150 ms).</summary>
    public TimeSpan ClockStableTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Pause after bus power comes on and after the first clock, before CMD0 (card power ramp, 74 clocks). Default 10 ms.</summary>
    public TimeSpan PowerUpDelay { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The base clock in Hz when the capabilities register says 0 (some Arasan integrations); null to use the register.</summary>
    public long? BaseClockHz { get; init; }

    /// <summary>The SD clock used for card identification. Default 400 kHz, the specification's ceiling.</summary>
    public long IdentificationClockHz { get; init; } = 400_000;

    /// <summary>
    /// Whether commands that write the card may run. Off by default: the engine refuses every write
    /// transfer unless this is set, so a read-only tool cannot damage a card by mistake.
    /// </summary>
    public bool AllowWrite { get; init; }
}
