namespace Sdhci.Probe.Sdhci;

/// <summary>Names, clocks and order of <see cref="SdBusSpeed"/>.</summary>
public static class SdBusSpeeds
{
    /// <summary>
    /// The order in which modes are preferred and capped, slowest first: Default, High (SDR25), SDR50, DDR50,
    /// SDR104. DDR50 moves as much data as SDR50 (50 MB/s) at half the clock; Linux's <c>sd_update_bus_speed_mode</c>
    /// prefers it to SDR50, and so does this driver, so <c>--max-speed ddr50</c> allows SDR50 and <c>sdr50</c> does not allow DDR50.
    /// </summary>
    /// <param name="speed">The mode.</param>
    /// <returns>0 to 4.</returns>
    public static int Rank(SdBusSpeed speed) => speed switch
    {
        SdBusSpeed.High => 1,
        SdBusSpeed.Sdr50 => 2,
        SdBusSpeed.Ddr50 => 3,
        SdBusSpeed.Sdr104 => 4,
        _ => 0,
    };

    /// <summary>Whether a cap of <paramref name="max"/> allows <paramref name="speed"/>.</summary>
    /// <param name="speed">The mode.</param>
    /// <param name="max">The cap (<c>--max-speed</c>).</param>
    /// <returns>True when <paramref name="speed"/> is no faster than <paramref name="max"/>.</returns>
    public static bool Allows(this SdBusSpeed max, SdBusSpeed speed) => Rank(speed) <= Rank(max);

    /// <summary>The highest SD clock of <paramref name="speed"/> (Physical Layer 3.01, 4.3.10: 25 MHz DS, 50 MHz HS and DDR50, 100 MHz SDR50, 208 MHz SDR104).</summary>
    /// <param name="speed">The mode.</param>
    /// <returns>Hz.</returns>
    public static long MaxClockHz(SdBusSpeed speed) => speed switch
    {
        SdBusSpeed.High or SdBusSpeed.Ddr50 => 50_000_000,
        SdBusSpeed.Sdr50 => 100_000_000,
        SdBusSpeed.Sdr104 => 208_000_000,
        _ => 25_000_000,
    };

    /// <summary>The mode as the specification names it: "Default Speed", "High Speed", "SDR50", "DDR50", "SDR104".</summary>
    /// <param name="speed">The mode.</param>
    /// <returns>The name.</returns>
    public static string Name(SdBusSpeed speed) => speed switch
    {
        SdBusSpeed.High => "High Speed",
        SdBusSpeed.Sdr50 => "SDR50",
        SdBusSpeed.Sdr104 => "SDR104",
        SdBusSpeed.Ddr50 => "DDR50",
        _ => "Default Speed",
    };

    /// <summary>The mode as <c>--max-speed</c> and the JSON reports spell it: "default", "high", "sdr50", "ddr50", "sdr104".</summary>
    /// <param name="speed">The mode.</param>
    /// <returns>The key.</returns>
    public static string Key(SdBusSpeed speed) => speed switch
    {
        SdBusSpeed.High => "high",
        SdBusSpeed.Sdr50 => "sdr50",
        SdBusSpeed.Sdr104 => "sdr104",
        SdBusSpeed.Ddr50 => "ddr50",
        _ => "default",
    };

    /// <summary>Whether <paramref name="speed"/> is a UHS-I mode (1.8 V signalling).</summary>
    /// <param name="speed">The mode.</param>
    /// <returns>True for SDR50, DDR50 and SDR104.</returns>
    public static bool IsUhs(SdBusSpeed speed) => Rank(speed) >= Rank(SdBusSpeed.Sdr50);
}
