using System.Buffers.Binary;

namespace Sdhci.Probe.Sdhci;

/// <summary>Bit fields of the card's big-endian registers, numbered the way the SD specification numbers them (bit 127 first).</summary>
internal static class CardRegisterBits
{
    public static UInt128 Read128(ReadOnlySpan<byte> raw, string name)
    {
        if (raw.Length != 16)
            throw new ArgumentException($"A {name} is 16 bytes (128 bits); got {raw.Length}.", nameof(raw));
        return BinaryPrimitives.ReadUInt128BigEndian(raw);
    }

    /// <summary>Bits <paramref name="high"/>:<paramref name="low"/> of <paramref name="value"/>.</summary>
    public static uint Get(UInt128 value, int high, int low)
    {
        var width = high - low + 1;
        return (uint)((value >> low) & ((UInt128.One << width) - 1));
    }

    /// <summary>Bits <paramref name="high"/>:<paramref name="low"/> of a 64-bit register.</summary>
    public static uint Get(ulong value, int high, int low)
    {
        var width = high - low + 1;
        return (uint)((value >> low) & ((1UL << width) - 1));
    }
}
