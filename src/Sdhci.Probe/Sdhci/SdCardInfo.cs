using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>What the bring-up learned about the card.</summary>
/// <param name="Type">SDSC v1, SDSC, or SDHC/SDXC.</param>
/// <param name="Ocr">The OCR of the last ACMD41 (bit 31 ready, bit 30 CCS, bits 23:8 voltage window).</param>
/// <param name="Rca">The relative card address from CMD3.</param>
/// <param name="Cid">The identification register.</param>
/// <param name="Csd">The card-specific data.</param>
/// <param name="Scr">The configuration register.</param>
/// <param name="BusWidth">1 or 4.</param>
/// <param name="ClockHz">The SD clock the card runs at now.</param>
public sealed record SdCardInfo(SdCardType Type, uint Ocr, ushort Rca, Cid Cid, Csd Csd, Scr Scr, int BusWidth, long ClockHz)
{
    /// <summary>The bus speed mode the bring-up chose.</summary>
    public SdBusSpeed BusSpeed { get; init; }

    /// <summary>Why it is that mode and not a faster one: "card and host support it", or the first thing that ruled the faster one out.</summary>
    public string BusSpeedReason { get; init; } = "";

    /// <summary>Why UHS-I was tried and not reached (the card refused 1.8 V, or the switch failed), or null when it was not tried or was reached.</summary>
    public string? UhsNote { get; init; }

    /// <summary>The CMD6 status of the last SWITCH_FUNC (the switch, else the query), or null when no CMD6 was sent.</summary>
    public SdSwitchStatus? SwitchStatus { get; init; }

    /// <summary>The mode, its limit, the clock and the reason: "High Speed (50 MHz max, SD clock 50 MHz): card and host support it".</summary>
    public string BusSpeedText => string.Create(CultureInfo.InvariantCulture,
        $"{SdBusSpeeds.Name(BusSpeed)} ({SdBusSpeeds.MaxClockHz(BusSpeed) / 1e6:0.###} MHz max, SD clock {ClockHz / 1e6:0.###} MHz): {BusSpeedReason}");

    /// <summary>Whether read and write commands take block numbers (SDHC/SDXC) rather than byte addresses (SDSC).</summary>
    public bool BlockAddressing => Type == SdCardType.HighCapacity;

    /// <summary>User data capacity in bytes (from the CSD).</summary>
    public long CapacityBytes => Csd.CapacityBytes;

    /// <summary>Capacity in 512-byte blocks.</summary>
    public long BlockCount => Csd.BlockCount;

    /// <summary>How multi-block commands end on this card: the options' choice, with <see cref="SdBlockCountMode.Auto"/> resolved from the SCR.</summary>
    public SdBlockCountMode BlockCountMode { get; init; } = SdBlockCountMode.AutoCmd12;
}
