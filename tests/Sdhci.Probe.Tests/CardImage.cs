using System.Buffers.Binary;
using System.Text;

namespace Sdhci.Probe.Tests;

/// <summary>The rig's card image, block by block, from the recipe of tools/vm/card/make-card-image.c.</summary>
internal static class CardImage
{
    public const int BlockSize = 512;

    /// <summary>Block <paramref name="lba"/>: "VFIO-NET LBA nnnnnnnn" header, then 120 xorshift32 words.</summary>
    public static byte[] Block(long lba)
    {
        var block = new byte[BlockSize];
        var header = $"VFIO-NET LBA {lba:D8}          \n";
        Encoding.ASCII.GetBytes(header, block);
        var x = unchecked((uint)(lba + 1) * 0x9E3779B1u);
        for (var i = 0; i < 120; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            BinaryPrimitives.WriteUInt32LittleEndian(block.AsSpan(32 + (4 * i)), x);
        }

        return block;
    }

    public static byte[] Blocks(long lba, int count)
    {
        var bytes = new byte[count * BlockSize];
        for (var i = 0; i < count; i++)
            Block(lba + i).CopyTo(bytes, i * BlockSize);
        return bytes;
    }
}
