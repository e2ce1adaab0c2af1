using System.Buffers.Binary;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// Writes ADMA2 descriptor tables (SD Host Controller 4.10, 1.13.4): the memory format the controller
/// fetches, apart from the registers that point it there (<see cref="SdhciHost"/>).
/// </summary>
internal static class SdhciAdma2Table
{
    private const ushort AdmaValid = 0x01;
    private const ushort AdmaEnd = 0x02;
    private const ushort AdmaTransfer = 0x20;

    /// <summary>Descriptors a transfer of <paramref name="length"/> bytes needs: one per <see cref="SdhciHost.MaxAdma2DescriptorLength"/>, at least one.</summary>
    public static int DescriptorCount(int length) => Math.Max(1, (length + SdhciHost.MaxAdma2DescriptorLength - 1) / SdhciHost.MaxAdma2DescriptorLength);

    /// <summary>
    /// One descriptor per 32 KiB: valid and transfer; the last one also ends the table. Little-endian,
    /// the layout of spec 4.10, 1.13.4: attribute (bits 15:0), length (31:16), address from bit 32 (32 or
    /// 64 bits); a 128-bit descriptor's last 32 bits are reserved and written as 0.
    /// </summary>
    public static void Write(Span<byte> memory, ulong dataAddress, int length, SdhciAdma2Format format)
    {
        var size = SdhciHost.DescriptorLength(format);
        var count = DescriptorCount(length);
        for (var i = 0; i < count; i++)
        {
            var chunk = Math.Min(SdhciHost.MaxAdma2DescriptorLength, length - (i * SdhciHost.MaxAdma2DescriptorLength));
            var entry = memory.Slice(i * size, size);
            var attribute = (ushort)(AdmaValid | AdmaTransfer | (i == count - 1 ? AdmaEnd : 0));
            var address = dataAddress + ((ulong)i * SdhciHost.MaxAdma2DescriptorLength);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, attribute);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], (ushort)chunk);
            if (format == SdhciAdma2Format.Address32)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], (uint)address);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], address);
                entry[12..].Clear();
            }
        }
    }
}
