using Sdhci.Probe.Commands;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>Reads and writes move a command's blocks at a time: each chunk reaches the sink (the --out file) as soon as its
/// command is done, a write asks its source just before each command, and nothing holds the whole range.</summary>
public class StreamingTests
{
    [Theory]
    [InlineData(SdhciTransferMode.Pio)]
    [InlineData(SdhciTransferMode.Adma2)]
    public void A_read_hands_over_each_commands_blocks_before_the_next_command(SdhciTransferMode mode)
    {
        var rig = CardCommandKit.Rig(perCommand: 8);
        var context = CardCommandKit.Context(rig, length => new ObservedDma(rig.Fake, length));
        var received = new List<(long Lba, int Length, int Cmd18sSoFar, byte[] Bytes)>();

        CardCommands.Read(context, 1000, 20, mode, (lba, blocks) =>
            received.Add((lba, blocks.Length, rig.Fake.Commands.Count(c => c.Index == 18), blocks.ToArray())), null);

        Assert.Equal([(1000L, 4096, 1), (1008L, 4096, 2), (1016L, 2048, 3)], received.Select(r => (r.Lba, r.Length, r.Cmd18sSoFar)));
        Assert.Equal(CardImage.Blocks(1000, 20), received.SelectMany(r => r.Bytes).ToArray());
    }

    [Fact]
    public void A_streamed_read_allocates_a_commands_worth_not_the_whole_range()
    {
        const int Blocks = 4096; // 2 MiB
        var whole = CardCommandKit.Rig(perCommand: 8);
        var streamed = CardCommandKit.Rig(perCommand: 8);
        long total = 0;

        var before = GC.GetAllocatedBytesForCurrentThread();
        whole.Card.ReadBlocks(0, Blocks);
        var wholeBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        before = GC.GetAllocatedBytesForCurrentThread();
        streamed.Card.ReadBlocks(0, Blocks, (_, blocks) => total += blocks.Length);
        var streamedBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Blocks * 512L, total);
        // Both runs pay the same for the fake card; only the whole-range read holds 2 MiB at once.
        Assert.True(streamedBytes < wholeBytes - (3 * Blocks * 512L / 4), $"streamed {streamedBytes} bytes, whole {wholeBytes}");
    }

    [Fact]
    public void A_write_asks_for_each_commands_blocks_just_before_sending_it()
    {
        var rig = CardCommandKit.Rig(perCommand: 8, allowWrite: true);
        var asked = new List<(long Lba, int Length, int Cmd25sSoFar)>();

        CardCommands.Write(CardCommandKit.Context(rig), 300, 20, SdhciTransferMode.Pio, (lba, span) =>
        {
            asked.Add((lba, span.Length, rig.Fake.Commands.Count(c => c.Index == 25)));
            for (var i = 0; i < span.Length; i += 512)
                span.Slice(i, 512).Fill((byte)(lba + (i / 512)));
        }, null);

        Assert.Equal([(300L, 4096, 0), (308L, 4096, 1), (316L, 2048, 2)], asked);
        for (var lba = 300; lba < 320; lba++)
            Assert.All(rig.Fake.Card.ReadImageBlock(lba), b => Assert.Equal((byte)lba, b));
        Assert.Equal(CardImage.Block(320), rig.Fake.Card.ReadImageBlock(320));
    }

    [Fact]
    public void The_out_file_grows_with_every_command()
    {
        var rig = CardCommandKit.Rig(perCommand: 8);
        var directory = CardCommandKit.TempDirectory();
        using var file = OutputFile.Create(Path.Combine(directory, "blocks.bin"), force: false);
        var lengths = new List<long>();

        CardCommands.Read(CardCommandKit.Context(rig), 0, 24, SdhciTransferMode.Pio, (_, blocks) => file.Write(blocks),
            new Recorder(done => lengths.Add(file.Length)));
        file.Commit();

        Assert.Equal([4096L, 8192L, 12288L], lengths);
        Assert.Equal(CardImage.Blocks(0, 24), File.ReadAllBytes(file.Path));
    }

    [Fact]
    public void Write_streams_an_in_file_command_by_command()
    {
        var rig = CardCommandKit.Rig(perCommand: 8, allowWrite: true);
        var directory = CardCommandKit.TempDirectory();
        var path = Path.Combine(directory, "in.bin");
        var data = new byte[12 * 512];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(path, data);
        using var input = InputFile.Open(path);

        CardCommands.Write(CardCommandKit.Context(rig), 40, 12, SdhciTransferMode.Pio, (_, span) => input.Read(span), null);

        Assert.Equal(data, Enumerable.Range(40, 12).SelectMany(lba => rig.Fake.Card.ReadImageBlock(lba)).ToArray());
    }

    [Fact]
    public void Pattern_blocks_start_each_block_with_the_text()
    {
        var blocks = CardCommands.PatternBlocks("abc", 2);

        Assert.Equal("ab", System.Text.Encoding.ASCII.GetString(blocks, 510, 2));   // 512 = 3 x 170 + 2
        Assert.Equal("abc", System.Text.Encoding.ASCII.GetString(blocks, 512, 3));  // the second block starts over
    }

    private sealed class Recorder(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
