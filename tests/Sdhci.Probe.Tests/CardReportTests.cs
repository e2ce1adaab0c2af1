using System.Text.Json;
using Sdhci.Probe.Commands;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>What init/read/write print: the card as JSON, the text description and the progress bar.</summary>
public class CardReportTests
{
    [Fact]
    public void Init_json_names_QEMUs_card_as_the_kernel_would()
    {
        var rig = SdRig.Initialized();

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(CardReport.From(rig.Card.Info!), ProbeJson.Default.CardReport));

        var root = json.RootElement;
        Assert.Equal("0x4567", root.GetProperty("rca").GetString());
        Assert.Equal(64L * 1024 * 1024, root.GetProperty("capacityBytes").GetInt64());
        Assert.Equal("cmd12", root.GetProperty("blockCountMode").GetString());
        var cid = root.GetProperty("cid");
        Assert.Equal("QEMU!", cid.GetProperty("product").GetString());
        Assert.Equal("0xdeadbeef", cid.GetProperty("serial").GetString());
        Assert.Equal("2006-02", cid.GetProperty("made").GetString());
        Assert.Equal("0225000000000000", root.GetProperty("scr").GetProperty("raw").GetString());
        Assert.False(root.GetProperty("scr").GetProperty("cmd23").GetBoolean());
    }

    [Fact]
    public void Description_says_how_multi_block_commands_end()
    {
        var rig = SdRig.Initialized();

        var text = CardCommands.Describe(rig.Card.Info!);

        Assert.Contains("Multi-block: auto-CMD12 after the last block, CMD23 not listed in the SCR", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 32768, 1.0, "[------------------------------]   0%  0.0/16.0 MiB  0.00 MB/s")]
    [InlineData(16384, 32768, 2.0, "[###############---------------]  50%  8.0/16.0 MiB  4.19 MB/s")]
    [InlineData(32768, 32768, 4.0, "[##############################] 100%  16.0/16.0 MiB  4.19 MB/s")]
    public void Progress_bar_shows_share_size_and_rate(int done, int total, double seconds, string expected) =>
        Assert.Equal(expected, CardCommands.BlockProgress.Line(done, total, TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Progress_draws_on_a_terminal_only_for_long_transfers_and_ends_the_line()
    {
        var terminal = new StringWriter();
        var shortOne = new CardCommands.BlockProgress(CardCommands.BlockProgress.MinimumBlocks - 1, terminal, CancellationToken.None);
        shortOne.Report(100);
        Assert.Equal("", terminal.ToString());

        var longOne = new CardCommands.BlockProgress(4096, terminal, CancellationToken.None);
        longOne.Report(2048);
        longOne.Report(4096);

        var drawn = terminal.ToString();
        Assert.StartsWith("\r[###############---------------]  50%  1.0/2.0 MiB", drawn, StringComparison.Ordinal);
        Assert.Contains("\r[##############################] 100%  2.0/2.0 MiB", drawn, StringComparison.Ordinal);
        Assert.EndsWith(Environment.NewLine, drawn, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_is_where_Ctrl_C_takes_effect()
    {
        using var stop = new CancellationTokenSource();
        var progress = new CardCommands.BlockProgress(10, null, stop.Token);
        progress.Report(1);

        stop.Cancel();

        Assert.Throws<OperationCanceledException>(() => progress.Report(2));
    }
}
