using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>One field of a decoded register, or a quantity derived from several registers.</summary>
/// <param name="Name">The specification's name for the field, or the quantity's name.</param>
/// <param name="Shift">Lowest bit; null for a derived quantity.</param>
/// <param name="Width">Number of bits; null for a derived quantity.</param>
/// <param name="Value">The field's value shifted down to bit 0 (for a derived frequency: Hz).</param>
/// <param name="Meaning">What the value means, in words.</param>
public sealed record DecodedField(string Name, int? Shift, int? Width, ulong Value, string Meaning)
{
    /// <summary>"16" or "15:8"; empty for a derived quantity. Written to JSON, ignored when reading it back.</summary>
    public string Bits => (Shift, Width) switch
    {
        ({ } s, 1) => s.ToString(CultureInfo.InvariantCulture),
        ({ } s, { } w) => string.Create(CultureInfo.InvariantCulture, $"{s + w - 1}:{s}"),
        _ => "",
    };
}
