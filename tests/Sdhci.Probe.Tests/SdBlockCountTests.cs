using Sdhci.Probe.Commands;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>How multi-block commands end: auto-CMD12 (open-ended) or CMD23 first (pre-defined), chosen from the SCR or asked for.</summary>
public class SdBlockCountTests
{
    // QEMU's SCR with CMD_SUPPORT bit 1 (CMD23) set, as a real SDHC card of spec 3.0x lists it.
    private static readonly byte[] ScrWithCmd23 = [0x02, 0x25, 0x80, 0x02, 0x00, 0x00, 0x00, 0x00];

    private static SdRig Rig(FakeSdCard card, SdBlockCountMode mode, bool allowWrite = false)
    {
        var rig = new SdRig(FakeSdController.Zcu102(card), SdRig.FastHost(allowWrite), SdRig.FastCard() with { BlockCountMode = mode });
        rig.Card.Initialize();
        return rig;
    }

    private static FakeDmaMemory Dma(SdRig rig)
    {
        var memory = new FakeDmaMemory(0x8000_0000, 1 << 20);
        rig.Fake.Attach(memory);
        return memory;
    }

    [Theory]
    [InlineData(SdhciTransferMode.Pio)]
    [InlineData(SdhciTransferMode.Sdma)]
    [InlineData(SdhciTransferMode.Adma2)]
    public void Cmd23_sets_the_count_first_and_no_CMD12_follows(SdhciTransferMode mode)
    {
        var rig = Rig(new FakeSdCard { AcceptsCmd23 = true }, SdBlockCountMode.Cmd23);
        var dma = mode == SdhciTransferMode.Pio ? null : Dma(rig);
        var before = rig.Fake.Commands.Count;

        var bytes = rig.Card.ReadBlocks(10, 8, mode, dma);

        Assert.Equal(CardImage.Blocks(10, 8), bytes);
        Assert.Equal([(23, 8u, false), (18, 10u * 512, false)], rig.Fake.Commands.Skip(before));
        Assert.Equal(0x32, rig.Fake.Read16(0x0C) & 0x3E);                          // block count enable, read, multi; no auto CMD12
        Assert.Equal(SdCardState.Transfer, rig.Fake.Card.State);                   // the card stopped by itself
        Assert.Equal(SdBlockCountMode.Cmd23, rig.Card.Info!.BlockCountMode);
    }

    [Fact]
    public void Cmd23_splits_long_reads_and_sets_each_commands_count()
    {
        var rig = new SdRig(FakeSdController.Zcu102(new FakeSdCard { AcceptsCmd23 = true }),
            cardOptions: SdRig.FastCard() with { BlockCountMode = SdBlockCountMode.Cmd23, MaxBlocksPerCommand = 16 });
        rig.Card.Initialize();
        var before = rig.Fake.Commands.Count;

        var bytes = rig.Card.ReadBlocks(0, 40);

        Assert.Equal(CardImage.Blocks(0, 40), bytes);
        Assert.Equal([(23, 16u, false), (18, 0u, false), (23, 16u, false), (18, 16u * 512, false), (23, 8u, false), (18, 32u * 512, false)],
            rig.Fake.Commands.Skip(before));
    }

    [Fact]
    public void Cmd23_writes_reach_the_card_and_it_returns_to_transfer()
    {
        var rig = Rig(new FakeSdCard { AcceptsCmd23 = true }, SdBlockCountMode.Cmd23, allowWrite: true);
        var data = CardCommands.PatternBlocks("cmd23", 3);
        var before = rig.Fake.Commands.Count;

        rig.Card.WriteBlocks(7, data);

        Assert.Equal((23, 3u, false), rig.Fake.Commands[before]);
        Assert.Equal((25, 7u * 512, false), rig.Fake.Commands[before + 1]);
        Assert.DoesNotContain(rig.Fake.Commands.Skip(before), c => c.Index == 12);
        Assert.Equal(data.AsSpan(512, 512).ToArray(), rig.Fake.Card.ReadImageBlock(8));
        Assert.Equal(SdCardState.Transfer, rig.Fake.Card.State);
    }

    [Fact]
    public void Single_blocks_need_no_count_even_with_Cmd23()
    {
        var rig = Rig(new FakeSdCard { AcceptsCmd23 = true }, SdBlockCountMode.Cmd23);
        var before = rig.Fake.Commands.Count;

        rig.Card.ReadBlocks(3, 1);

        Assert.Equal([(17, 3u * 512, false)], rig.Fake.Commands.Skip(before));
    }

    [Fact]
    public void Auto_follows_the_SCR_QEMUs_card_lists_no_CMD23_so_auto_CMD12()
    {
        var rig = Rig(new FakeSdCard { AcceptsCmd23 = true }, SdBlockCountMode.Auto);
        var before = rig.Fake.Commands.Count;

        rig.Card.ReadBlocks(0, 4);

        Assert.Equal(SdBlockCountMode.AutoCmd12, rig.Card.Info!.BlockCountMode);
        Assert.Equal([(18, 0u, false), (12, 0u, false)], rig.Fake.Commands.Skip(before));
    }

    [Fact]
    public void Auto_uses_CMD23_when_the_SCR_lists_it()
    {
        var rig = Rig(new FakeSdCard { AcceptsCmd23 = true, Scr = ScrWithCmd23 }, SdBlockCountMode.Auto);
        var before = rig.Fake.Commands.Count;

        var bytes = rig.Card.ReadBlocks(0, 4);

        Assert.True(rig.Card.Info!.Scr.SupportsCmd23);
        Assert.Equal(SdBlockCountMode.Cmd23, rig.Card.Info.BlockCountMode);
        Assert.Equal([(23, 4u, false), (18, 0u, false)], rig.Fake.Commands.Skip(before));
        Assert.Equal(CardImage.Blocks(0, 4), bytes);
    }

    [Fact]
    public void Cmd23_on_a_card_that_refuses_it_names_the_SCR_and_the_way_out()
    {
        var rig = Rig(new FakeSdCard(), SdBlockCountMode.Cmd23);                    // spec 2.00: CMD23 is illegal

        var e = Assert.Throws<SdhciException>(() => rig.Card.ReadBlocks(0, 4));

        Assert.Equal(SdhciError.NotSupported, e.Error);
        Assert.Equal(23, e.CommandIndex);
        Assert.Contains("does not list CMD23", e.Message, StringComparison.Ordinal);
        Assert.Contains("--block-count cmd12", e.Message, StringComparison.Ordinal);
        Assert.Equal(SdCardState.Transfer, rig.Fake.Card.State);                   // no data command was sent

        rig.Card.ReadBlocks(0, 1);                                                  // and the card still works
    }
}
