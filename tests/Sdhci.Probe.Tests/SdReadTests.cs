using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>Block reads in the three modes return the card image's bytes (the recipe of tools/vm/card/make-card-image.c).</summary>
public class SdReadTests
{
    private const ulong DmaAddress = 0x8000_0000;

    private static FakeDmaMemory Dma(SdRig rig, int length = 1 << 20, ulong address = DmaAddress)
    {
        var memory = new FakeDmaMemory(address, length);
        rig.Fake.Attach(memory);
        return memory;
    }

    [Theory]
    [InlineData(SdhciTransferMode.Pio, 0, 1)]
    [InlineData(SdhciTransferMode.Pio, 100, 5)]
    [InlineData(SdhciTransferMode.Sdma, 0, 1)]
    [InlineData(SdhciTransferMode.Sdma, 1234, 40)]
    [InlineData(SdhciTransferMode.Adma2, 0, 1)]
    [InlineData(SdhciTransferMode.Adma2, 131_000, 72)]
    public void Read_returns_the_card_images_blocks(SdhciTransferMode mode, long lba, int count)
    {
        var rig = SdRig.Initialized();
        var dma = mode == SdhciTransferMode.Pio ? null : Dma(rig);

        var bytes = rig.Card.ReadBlocks(lba, count, mode, dma);

        Assert.Equal(CardImage.Blocks(lba, count), bytes);
        Assert.StartsWith($"VFIO-NET LBA {lba:D8}", System.Text.Encoding.ASCII.GetString(bytes, 0, 21), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SdhciTransferMode.Pio)]
    [InlineData(SdhciTransferMode.Sdma)]
    [InlineData(SdhciTransferMode.Adma2)]
    public void Multi_block_read_is_one_CMD18_with_byte_address_and_auto_CMD12(SdhciTransferMode mode)
    {
        var rig = SdRig.Initialized();
        var dma = mode == SdhciTransferMode.Pio ? null : Dma(rig);
        var before = rig.Fake.Commands.Count;

        rig.Card.ReadBlocks(10, 8, mode, dma);

        var commands = rig.Fake.Commands.Skip(before).ToList();
        Assert.Equal([(18, 10u * 512, false), (12, 0u, false)], commands);        // SDSC: byte address; CMD12 sent by the controller
        Assert.Equal(0x36, rig.Fake.Read16(0x0C) & 0x3E);                         // block count enable, auto CMD12, read, multi
        Assert.Equal(8, rig.Fake.Read16(0x06));
        Assert.Equal(SdCardState.Transfer, rig.Fake.Card.State);
    }

    [Fact]
    public void Single_block_read_is_CMD17_without_auto_CMD12()
    {
        var rig = SdRig.Initialized();
        var before = rig.Fake.Commands.Count;

        rig.Card.ReadBlocks(3, 1);

        Assert.Equal([(17, 3u * 512, false)], rig.Fake.Commands.Skip(before));
        Assert.Equal(0x12, rig.Fake.Read16(0x0C) & 0x3F);                         // block count enable and read only
    }

    [Fact]
    public void High_capacity_cards_get_block_numbers_not_byte_addresses()
    {
        var card = new FakeSdCard(4L * 1024 * 1024 * 1024, highCapacity: true);
        var rig = SdRig.Initialized(FakeSdController.Zcu102(card));
        var before = rig.Fake.Commands.Count;

        var bytes = rig.Card.ReadBlocks(5_000_000, 2);

        Assert.Equal((18, 5_000_000u, false), rig.Fake.Commands[before]);
        Assert.Equal(CardImage.Blocks(5_000_000, 2), bytes);
    }

    [Fact]
    public void ADMA2_builds_a_32_bit_descriptor_table_ahead_of_page_aligned_data()
    {
        var rig = SdRig.Initialized(FakeSdController.SdhciPci());           // no 64-bit system bus
        var dma = Dma(rig);

        rig.Card.ReadBlocks(0, 80, SdhciTransferMode.Adma2, dma);              // 40 KiB: two descriptors

        Assert.Equal(
            [(0x21, 32768, (uint)DmaAddress + 4096), (0x23, 8192, (uint)DmaAddress + 4096 + 32768)],
            rig.Fake.AdmaDescriptors.Select(d => ((int)d.Attribute, d.Length, d.Address)));
        Assert.Equal(0x10, rig.Fake.HostControl1 & 0x18);                        // DMA Select: 32-bit ADMA2
        Assert.Equal(DmaAddress, (ulong)rig.Fake.Read32(0x58) | ((ulong)rig.Fake.Read32(0x5C) << 32));
        Assert.Equal(CardImage.Blocks(0, 80), dma.Memory.AsSpan(4096, 80 * 512).ToArray());
    }

    [Fact]
    public void SDMA_that_does_not_resume_after_a_boundary_times_out_naming_QEMUs_behaviour_and_ADMA2()
    {
        var rig = SdRig.Initialized();
        rig.Fake.SdmaResumeIgnored = true;
        var dma = Dma(rig, length: 64 * 1024, address: 0x8007_C000);

        var error = Assert.Throws<SdhciException>(() => rig.Card.ReadBlocks(77, 64, SdhciTransferMode.Sdma, dma));

        Assert.Equal(SdhciError.Timeout, error.Error);
        Assert.Contains("did not resume at 0x80080000", error.Message, StringComparison.Ordinal);
        Assert.Contains("CVE-2021-3409", error.Message, StringComparison.Ordinal);
        Assert.Contains("--mode adma2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SDMA_crossing_a_512_KiB_boundary_is_resumed_at_the_next_boundary()
    {
        var rig = SdRig.Initialized();
        var dma = Dma(rig, length: 64 * 1024, address: 0x8007_C000);           // 16 KiB before the boundary at 0x8008_0000

        var bytes = rig.Card.ReadBlocks(77, 64, SdhciTransferMode.Sdma, dma);   // 32 KiB

        Assert.Equal([0x8007_C000u, 0x8008_0000u], rig.Fake.SdmaAddressWrites);
        Assert.Equal(0x7200, rig.Fake.Read16(0x04));                             // 512-byte blocks, 512 KiB boundary
        Assert.Equal(CardImage.Blocks(77, 64), bytes);
        Assert.Equal(0x00, rig.Fake.HostControl1 & 0x18);                         // DMA Select: SDMA
    }

    [Fact]
    public void Long_reads_are_split_to_fit_the_DMA_memory_and_report_progress()
    {
        var rig = SdRig.Initialized();
        var dma = Dma(rig, length: 4096 + (8 * 512));                             // descriptor page + 8 blocks
        var progress = new List<int>();
        var before = rig.Fake.Commands.Count;

        var bytes = rig.Card.ReadBlocks(500, 20, SdhciTransferMode.Adma2, dma, new SyncProgress(progress));

        Assert.Equal(CardImage.Blocks(500, 20), bytes);
        Assert.Equal([8, 16, 20], progress);
        Assert.Equal([500u * 512, 508u * 512, 516u * 512], rig.Fake.Commands.Skip(before).Where(c => c.Index == 18).Select(c => c.Argument));
    }

    [Fact]
    public void Reads_beyond_the_end_of_the_card_are_refused_before_any_command()
    {
        var rig = SdRig.Initialized();
        var before = rig.Fake.Commands.Count;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => rig.Card.ReadBlocks(131_070, 3));

        Assert.Contains("131072 blocks", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, rig.Fake.Commands.Count);
    }

    [Fact]
    public void The_last_blocks_of_the_card_can_be_read()
    {
        var rig = SdRig.Initialized();

        var bytes = rig.Card.ReadBlocks(131_070, 2);

        Assert.Equal(CardImage.Blocks(131_070, 2), bytes);
    }

    [Fact]
    public void Reading_before_bring_up_is_refused()
    {
        var rig = new SdRig();

        var error = Assert.Throws<InvalidOperationException>(() => rig.Card.ReadBlocks(0, 1));

        Assert.Contains("Initialize", error.Message, StringComparison.Ordinal);
        Assert.Empty(rig.Fake.Commands);
    }

    [Fact]
    public void DMA_modes_without_DMA_memory_are_refused()
    {
        var rig = SdRig.Initialized();

        Assert.Throws<ArgumentException>(() => rig.Card.ReadBlocks(0, 1, SdhciTransferMode.Adma2));
    }

    [Fact]
    public void DMA_memory_above_4_GiB_is_refused_for_32_bit_DMA()
    {
        var rig = SdRig.Initialized(FakeSdController.SdhciPci());
        var dma = Dma(rig, address: 0x1_0000_0000);

        var error = Assert.Throws<ArgumentException>(() => rig.Card.ReadBlocks(0, 1, SdhciTransferMode.Adma2, dma));

        Assert.Contains("below 4 GiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Card_image_recipe_matches_the_generator()
    {
        var block = CardImage.Block(7);

        Assert.Equal("VFIO-NET LBA 00000007          \n", System.Text.Encoding.ASCII.GetString(block, 0, 32));
        // First xorshift32 word from x = 8 * 0x9E3779B1, computed by hand from the C recipe.
        var x = unchecked(8u * 0x9E3779B1u);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        Assert.Equal(x, BitConverter.ToUInt32(block, 32));
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; this one records in order, at once.</summary>
    private sealed class SyncProgress(List<int> values) : IProgress<int>
    {
        public void Report(int value) => values.Add(value);
    }
}
