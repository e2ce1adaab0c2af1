using F = Sdhci.Probe.Sdhci.SdhciRegisters.ClockControlFields;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The SD clock arithmetic of the Clock Control register (0x2C): the divider it holds and the
/// card clock that results from the base clock.
/// </summary>
/// <remarks>
/// <para>
/// Divided clock mode (all versions): SDCLK = base / (2N), and N = 0 gives the base clock itself.
/// Spec 3.00 widens N to 10 bits (bits 15:8 hold N[7:0], bits 7:6 hold N[9:8]), so the slowest
/// clock is base / 2046. Before 3.00, N has 8 bits and must be a power of two.
/// </para>
/// <para>
/// Programmable clock mode (3.00, Clock Generator Select set, capabilities clock multiplier M
/// non-zero): SDCLK = base × (M + 1) / (N + 1).
/// </para>
/// </remarks>
/// <example>
/// <code>
/// ushort clk = SdhciClock.EncodeDivider(125);                                   // 400 kHz from 100 MHz
/// long hz = SdhciClock.SdClockHz(100_000_000, clk, SdhciSpecVersion.Version300); // 400_000
/// </code>
/// </example>
public static class SdhciClock
{
    /// <summary>Largest divider N of spec 3.00's 10-bit field.</summary>
    public const int MaxDividerVersion300 = 0x3FF;

    /// <summary>Largest divider N before spec 3.00 (8 bits, base / 256).</summary>
    public const int MaxDividerVersion200 = 0x80;

    /// <summary>The divider N the register holds.</summary>
    /// <param name="clockControl">The Clock Control register.</param>
    /// <param name="version">Spec version: the upper two bits only count from 3.00.</param>
    /// <returns>N: 10 bits from 3.00, 8 bits before.</returns>
    public static int Divider(ushort clockControl, SdhciSpecVersion version)
    {
        var low = (int)F.SdclkFrequencySelect.Extract(clockControl);
        if (version < SdhciSpecVersion.Version300)
            return low;
        return low | ((int)F.SdclkFrequencySelectUpper.Extract(clockControl) << 8);
    }

    /// <summary>The Clock Control bits that select divider <paramref name="divider"/> (other bits zero).</summary>
    /// <param name="divider">N, 0 to <see cref="MaxDividerVersion300"/>.</param>
    /// <returns>The register bits 15:6.</returns>
    public static ushort EncodeDivider(int divider)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(divider);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(divider, MaxDividerVersion300);
        ulong value = F.SdclkFrequencySelect.Insert(0, (ulong)(divider & 0xFF));
        value = F.SdclkFrequencySelectUpper.Insert(value, (ulong)(divider >> 8));
        return (ushort)value;
    }

    /// <summary>The SD clock in Hz that <paramref name="clockControl"/> produces from <paramref name="baseClockHz"/>.</summary>
    /// <param name="baseClockHz">The base clock (capabilities bits 15:8, or what the platform says).</param>
    /// <param name="clockControl">The Clock Control register.</param>
    /// <param name="version">Spec version of the controller.</param>
    /// <param name="clockMultiplier">
    /// The programmable clock mode multiplier (<see cref="SdhciCapabilities.ClockMultiplier"/>, i.e. M + 1),
    /// 0 when the controller has no programmable mode.
    /// </param>
    /// <returns>The frequency whether or not SD Clock Enable is set (the caller says which); integer division, as the kernel computes it.</returns>
    public static long SdClockHz(long baseClockHz, ushort clockControl, SdhciSpecVersion version, int clockMultiplier = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(baseClockHz);
        var divider = Divider(clockControl, version);
        if (IsProgrammableMode(clockControl, version, clockMultiplier))
            return baseClockHz * clockMultiplier / (divider + 1);
        return divider == 0 ? baseClockHz : baseClockHz / (2L * divider);
    }

    /// <summary>Whether the register selects programmable clock mode and the controller has it.</summary>
    /// <param name="clockControl">The Clock Control register.</param>
    /// <param name="version">Spec version.</param>
    /// <param name="clockMultiplier">Multiplier (M + 1), 0 when unsupported.</param>
    /// <returns><see langword="true"/> for programmable mode.</returns>
    public static bool IsProgrammableMode(ushort clockControl, SdhciSpecVersion version, int clockMultiplier) =>
        version >= SdhciSpecVersion.Version300 && clockMultiplier > 0 && F.ClockGeneratorSelect.IsSet(clockControl);

    /// <summary>
    /// The smallest divided-mode divider N whose clock does not exceed <paramref name="targetHz"/>:
    /// the divider an identification-speed (400 kHz) or default-speed (25 MHz) bring-up wants.
    /// </summary>
    /// <param name="baseClockHz">The base clock.</param>
    /// <param name="targetHz">The highest acceptable SD clock.</param>
    /// <param name="version">Spec version: before 3.00 only powers of two up to 128 exist.</param>
    /// <returns>N; the largest divider when even that is too fast.</returns>
    public static int DividerFor(long baseClockHz, long targetHz, SdhciSpecVersion version)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetHz);
        if (baseClockHz <= targetHz)
            return 0;
        if (version < SdhciSpecVersion.Version300)
        {
            var n = 1;
            while (n < MaxDividerVersion200 && baseClockHz / (2L * n) > targetHz)
                n *= 2;
            return n;
        }

        // Ceiling of base / (2 * target): the first N whose clock is at or below the target.
        var divider = (baseClockHz + (2 * targetHz) - 1) / (2 * targetHz);
        return (int)Math.Min(divider, MaxDividerVersion300);
    }
}
