using System.Buffers.Binary;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>
/// 64-bit ADMA2: the descriptor format chosen from the capabilities (bit 28; bit 27 in version 4 mode),
/// the table as it lies in DMA memory (parsed back here, not taken from the engine), the registers that
/// select it, DMA memory above 4 GiB, and the refusal on a host that cannot reach it.
/// </summary>
public class Adma64Tests
{
    private const ulong Below4GiB = 0x8000_0000;
    private const ulong Above4GiB = 0x8_0000_0000;                 // where the ZCU102's upper DDR starts

    // A 4.10 controller: ADMA2, SDMA, High Speed, 3.3 V, 100 MHz, 64-bit System Address for V4 (bit 27) but no bit 28.
    private const ulong Version410Caps = (1UL << 27) | (1UL << 24) | (1UL << 22) | (1UL << 21) | (1UL << 19) | (100UL << 8);
    private const ushort Version410 = 0x0004;

    private static FakeDmaMemory Dma(SdRig rig, ulong address, int length = 1 << 20)
    {
        var memory = new FakeDmaMemory(address, length);
        rig.Fake.Attach(memory);
        return memory;
    }

    /// <summary>Reads the table back from DMA memory: attribute, length, address, and the reserved word of a 128-bit descriptor.</summary>
    private static List<(int Attribute, int Length, ulong Address, uint Reserved)> Table(FakeDmaMemory memory, int size)
    {
        var table = new List<(int, int, ulong, uint)>();
        for (var at = 0; ; at += size)
        {
            var entry = memory.Memory.AsSpan(at, size);
            var attribute = BinaryPrimitives.ReadUInt16LittleEndian(entry);
            var length = BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]);
            var address = size == 8 ? BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]) : BinaryPrimitives.ReadUInt64LittleEndian(entry[4..]);
            var reserved = size == 16 ? BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]) : 0;
            table.Add((attribute, length, address, reserved));
            if ((attribute & 2) != 0)
                return table;
        }
    }

    [Fact]
    public void The_format_follows_the_capabilities_and_the_options()
    {
        Assert.Equal(SdhciAdma2Format.Address64, new SdRig(FakeSdController.Zcu102()).Host.Adma2Format);        // 0x37ec6481: bit 28
        Assert.Equal(SdhciAdma2Format.Address32, new SdRig(FakeSdController.SdhciPci()).Host.Adma2Format);      // 0x057834b4: no bit 28
        Assert.Equal(SdhciAdma2Format.Address32,
            new SdRig(FakeSdController.Zcu102(), SdRig.FastHost() with { Allow64BitDma = false }).Host.Adma2Format);
        // Version 4 mode only where asked for and where the controller is 4.00 or later.
        Assert.Equal(SdhciAdma2Format.Address64,
            new SdRig(FakeSdController.Zcu102(), SdRig.FastHost() with { HostVersion4Mode = true }).Host.Adma2Format);
        Assert.Equal(SdhciAdma2Format.Address64V4,
            new SdRig(new FakeSdController(Version410Caps, Version410, 0x100), SdRig.FastHost() with { HostVersion4Mode = true }).Host.Adma2Format);
        Assert.Equal(SdhciAdma2Format.Address32, new SdRig(new FakeSdController(Version410Caps, Version410, 0x100)).Host.Adma2Format);
        Assert.Equal([8, 12, 16], new[] { SdhciAdma2Format.Address32, SdhciAdma2Format.Address64, SdhciAdma2Format.Address64V4 }.Select(SdhciHost.DescriptorLength));
    }

    [Fact]
    public void On_the_ZCU102_ADMA2_writes_96_bit_descriptors_and_selects_64_bit_ADMA2()
    {
        var rig = SdRig.Initialized();
        var dma = Dma(rig, Below4GiB);

        var bytes = rig.Card.ReadBlocks(0, 80, SdhciTransferMode.Adma2, dma);           // 40 KiB: two descriptors

        Assert.Equal(CardImage.Blocks(0, 80), bytes);
        Assert.Equal([(0x21, 32768, Below4GiB + 4096, 0u), (0x23, 8192, Below4GiB + 4096 + 32768, 0u)], Table(dma, 12));
        Assert.Equal(12, rig.Fake.AdmaDescriptorSize);
        Assert.Equal(0x18, rig.Fake.HostControl1 & 0x18);                               // DMA Select 0b11: 64-bit ADMA2
        Assert.True(rig.Fake.AdmaHighAddressWrites > 0);                                 // 0x5C written
    }

    [Fact]
    public void Without_a_64_bit_bus_ADMA2_keeps_8_byte_descriptors_and_never_writes_0x5C()
    {
        var rig = SdRig.Initialized(FakeSdController.SdhciPci());
        var dma = Dma(rig, Below4GiB);

        rig.Card.ReadBlocks(0, 80, SdhciTransferMode.Adma2, dma);

        Assert.Equal([(0x21, 32768, Below4GiB + 4096, 0u), (0x23, 8192, Below4GiB + 4096 + 32768, 0u)], Table(dma, 8));
        Assert.Equal(8, rig.Fake.AdmaDescriptorSize);
        Assert.Equal(0x10, rig.Fake.HostControl1 & 0x18);                               // DMA Select 0b10: 32-bit ADMA2
        Assert.Equal(0, rig.Fake.AdmaHighAddressWrites);
    }

    [Fact]
    public void DMA_memory_above_4_GiB_reads_and_writes_with_64_bit_descriptors()
    {
        var rig = SdRig.Initialized(hostOptions: SdRig.FastHost(allowWrite: true));
        var dma = Dma(rig, Above4GiB + 0x20_0000);
        var data = CardImage.Blocks(9000, 70);

        rig.Card.WriteBlocks(100, data, SdhciTransferMode.Adma2, dma);
        var back = rig.Card.ReadBlocks(100, 70, SdhciTransferMode.Adma2, dma);

        Assert.Equal(data, back);
        Assert.All(rig.Fake.AdmaDescriptors, d => Assert.True(d.Address > uint.MaxValue));
        Assert.Equal(Above4GiB + 0x20_0000 + 4096, rig.Fake.AdmaDescriptors[0].Address);
        Assert.Equal((uint)((Above4GiB + 0x20_0000) >> 32), rig.Fake.Read32(0x5C));
    }

    [Fact]
    public void DMA_memory_above_4_GiB_is_refused_on_a_host_without_bit_28_saying_why()
    {
        var rig = SdRig.Initialized(FakeSdController.SdhciPci());
        var dma = Dma(rig, Above4GiB);
        var before = rig.Fake.Commands.Count;

        var error = Assert.Throws<ArgumentException>(() => rig.Card.ReadBlocks(0, 8, SdhciTransferMode.Adma2, dma));

        Assert.Contains("Capabilities bit 28 is clear", error.Message, StringComparison.Ordinal);
        Assert.Contains("below 4 GiB", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Use ADMA2", error.Message, StringComparison.Ordinal); // ADMA2 is what failed
        Assert.Equal(before, rig.Fake.Commands.Count);                                  // refused before the command
        Assert.Empty(rig.Fake.AdmaDescriptors);
    }

    [Fact]
    public void SDMA_above_4_GiB_stays_refused_even_with_64_bit_ADMA2()
    {
        var rig = SdRig.Initialized();
        var dma = Dma(rig, Above4GiB);

        var error = Assert.Throws<ArgumentException>(() => rig.Card.ReadBlocks(0, 8, SdhciTransferMode.Sdma, dma));

        Assert.Contains("SDMA takes 32-bit addresses", error.Message, StringComparison.Ordinal);
        Assert.Contains("Use ADMA2, which reaches it with 64-bit addresses", error.Message, StringComparison.Ordinal); // the fix that works here
    }

    [Fact]
    public void Version_4_mode_sets_Host_Control_2_and_writes_128_bit_descriptors()
    {
        var fake = new FakeSdController(Version410Caps, Version410, 0x100);
        var rig = SdRig.Initialized(fake, SdRig.FastHost() with { HostVersion4Mode = true });
        var dma = Dma(rig, Above4GiB);

        var bytes = rig.Card.ReadBlocks(7, 80, SdhciTransferMode.Adma2, dma);

        Assert.Equal(CardImage.Blocks(7, 80), bytes);
        Assert.Equal(0x3000, fake.HostControl2 & 0x3000);                               // Host Version 4 Enable, 64-bit Addressing
        Assert.Equal([(0x21, 32768, Above4GiB + 4096, 0u), (0x23, 8192, Above4GiB + 4096 + 32768, 0u)], Table(dma, 16));
        Assert.Equal(16, fake.AdmaDescriptorSize);
        Assert.Equal(0x10, fake.HostControl1 & 0x18);                                   // DMA Select 0b10: ADMA2, the width is in Host Control 2
    }

    [Fact]
    public void Version_4_mode_gives_SDMA_its_address_in_0x58()
    {
        var fake = new FakeSdController(Version410Caps, Version410, 0x100);
        var rig = SdRig.Initialized(fake, SdRig.FastHost() with { HostVersion4Mode = true });
        var dma = Dma(rig, Below4GiB);

        var bytes = rig.Card.ReadBlocks(3, 16, SdhciTransferMode.Sdma, dma);

        Assert.Equal(CardImage.Blocks(3, 16), bytes);
        Assert.Equal([(uint)Below4GiB], fake.SdmaAddressWrites);                         // through 0x58/0x5C
        Assert.Equal(0u, fake.Read32(0x00));                                             // 0x00 is the 32-bit block count in version 4 mode
    }

    [Theory]
    [InlineData(1 << 20, 8, 4096)]                   // 32 descriptors: 256, 384 or 512 bytes, one page each
    [InlineData(1 << 20, 12, 4096)]
    [InlineData(1 << 20, 16, 4096)]
    [InlineData((16 << 20) + 512, 8, 8192)]          // 513 descriptors: 4104 bytes, two pages
    [InlineData((16 << 20) + 512, 12, 8192)]         // 6156 bytes, two pages
    [InlineData((16 << 20) + 512, 16, 12288)]        // 8208 bytes, three pages
    public void The_data_follows_a_page_aligned_table_sized_for_the_hosts_descriptors(int length, int descriptor, int offset)
    {
        Assert.Equal(offset, SdhciHost.DmaDataOffset(SdhciTransferMode.Adma2, length, descriptor));
        Assert.Equal(offset + length, SdhciHost.RequiredDmaLength(SdhciTransferMode.Adma2, length, descriptor));
        Assert.Throws<ArgumentOutOfRangeException>(() => SdhciHost.DmaDataOffset(SdhciTransferMode.Adma2, length, 10));
    }
}
