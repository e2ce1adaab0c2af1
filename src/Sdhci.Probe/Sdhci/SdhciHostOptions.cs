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

    /// <summary>
    /// Use 64-bit ADMA2 descriptors when the capabilities offer a 64-bit system bus (bit 28). Default true;
    /// turn it off for a host whose 64-bit DMA is broken (Linux's SDHCI_QUIRK2_BROKEN_64_BIT_DMA), which
    /// then gets 32-bit descriptors and DMA memory below 4 GiB.
    /// </summary>
    public bool Allow64BitDma { get; init; } = true;

    /// <summary>
    /// Enable Host Version 4 mode (Host Control 2 bit 12) on a 4.00 or later controller, with 64-bit
    /// addressing (bit 13) when Capabilities bit 27 allows: ADMA2 then takes 128-bit descriptors and SDMA
    /// its address from 0x58 (SD Host Controller 4.10, 1.13 and 2.2.1). Off by default, as in Linux, where a
    /// host driver opts in (<c>sdhci_enable_v4_mode</c>): version 4 mode changes register meanings some
    /// integrations get wrong.
    /// </summary>
    public bool HostVersion4Mode { get; init; }
}
