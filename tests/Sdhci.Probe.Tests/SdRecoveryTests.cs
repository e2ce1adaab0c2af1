using Sdhci.Probe.Sdhci;
using Xunit;
using Phase = Sdhci.Probe.Tests.FakePhase;

namespace Sdhci.Probe.Tests;

/// <summary>
/// Error recovery at every phase of a block command (its CMD23, the command, its response, the data phase in
/// PIO, SDMA and ADMA2, the auto-CMD12): an error once is recovered (lines reset, CMD13, CMD12 where the card was
/// left sending or receiving, a retry) and the data is right; an error that persists ends in a failure that names
/// the command, every error bit, the card state and the retries made. A card pulled is reported, never retried.
/// </summary>
public class SdRecoveryTests
{
    private const long Lba = 100;
    private const ulong DmaAt = 0x8000_0000;

    public static TheoryData<Phase, int, SdhciInterrupt, ushort, SdhciTransferMode, bool> Faults => new()
    {
        // phase, command, error bits, auto-CMD status, mode, whether the card is left in data/rcv (CMD12 needed)
        { Phase.Command, 18, SdhciInterrupt.CommandCrcError, 0, SdhciTransferMode.Pio, false },
        { Phase.Command, 18, SdhciInterrupt.CommandTimeoutError, 0, SdhciTransferMode.Adma2, false },
        { Phase.Response, 18, SdhciInterrupt.CommandEndBitError, 0, SdhciTransferMode.Sdma, true },
        { Phase.Response, 17, SdhciInterrupt.CommandIndexError, 0, SdhciTransferMode.Pio, true },
        { Phase.Data, 18, SdhciInterrupt.DataCrcError, 0, SdhciTransferMode.Pio, true },
        { Phase.Data, 18, SdhciInterrupt.DataEndBitError, 0, SdhciTransferMode.Sdma, true },
        { Phase.Data, 18, SdhciInterrupt.DataTimeoutError, 0, SdhciTransferMode.Adma2, true },
        { Phase.Data, 18, SdhciInterrupt.AdmaError, 0, SdhciTransferMode.Adma2, true },
        { Phase.Data, 17, SdhciInterrupt.DataCrcError, 0, SdhciTransferMode.Adma2, false },
        { Phase.AutoCmd12, 18, SdhciInterrupt.AutoCmdError, 0x02, SdhciTransferMode.Pio, true },
        { Phase.AutoCmd12, 18, SdhciInterrupt.AutoCmdError, 0x04, SdhciTransferMode.Adma2, false },
        { Phase.Command, 25, SdhciInterrupt.CommandCrcError, 0, SdhciTransferMode.Pio, false },
        { Phase.Response, 25, SdhciInterrupt.CommandCrcError, 0, SdhciTransferMode.Adma2, true },
        { Phase.Response, 24, SdhciInterrupt.CommandEndBitError, 0, SdhciTransferMode.Sdma, true },
        { Phase.Data, 25, SdhciInterrupt.DataCrcError, 0, SdhciTransferMode.Pio, true },
        { Phase.Data, 25, SdhciInterrupt.DataEndBitError, 0, SdhciTransferMode.Sdma, true },
        { Phase.Data, 25, SdhciInterrupt.DataTimeoutError, 0, SdhciTransferMode.Adma2, true },
        { Phase.Data, 24, SdhciInterrupt.DataCrcError, 0, SdhciTransferMode.Pio, true },
        { Phase.AutoCmd12, 25, SdhciInterrupt.AutoCmdError, 0x08, SdhciTransferMode.Sdma, false },
        { Phase.AutoCmd12, 25, SdhciInterrupt.AutoCmdError, 0x02, SdhciTransferMode.Adma2, true },
        { Phase.Command, 23, SdhciInterrupt.CommandCrcError, 0, SdhciTransferMode.Adma2, false },
        { Phase.Response, 23, SdhciInterrupt.CommandIndexError, 0, SdhciTransferMode.Pio, false },
    };

    /// <summary>The command the test transfers with, given the one the fault hits: 17/24 single, 18/25 multi, 23 before an 18 (even) or 25 (odd case).</summary>
    private sealed record Plan(bool Write, int Blocks, bool Cmd23);

    private static Plan PlanFor(Phase phase, int index, SdhciInterrupt error) => index switch
    {
        17 => new(false, 1, false),
        24 => new(true, 1, false),
        18 => new(false, 8, false),
        25 => new(true, 8, false),
        _ => new(phase == Phase.Response || error == SdhciInterrupt.CommandIndexError, 8, true),
    };

    private static (SdRig Rig, FakeDmaMemory Dma) Rig(Plan plan, int retries = SdCardOptions.DefaultRetries)
    {
        var card = new FakeSdCard { AcceptsCmd23 = plan.Cmd23 };
        var options = SdRig.FastCard() with
        {
            MaxBlocksPerCommand = 8,
            Retries = retries,
            BlockCountMode = plan.Cmd23 ? SdBlockCountMode.Cmd23 : SdBlockCountMode.AutoCmd12,
        };
        var rig = new SdRig(FakeSdController.Zcu102(card), SdRig.FastHost(allowWrite: true), options);
        rig.Card.Initialize();
        var dma = new FakeDmaMemory(DmaAt, 1 << 16);
        rig.Fake.Attach(dma);
        return (rig, dma);
    }

    private static byte[] Pattern(int blocks)
    {
        var data = new byte[blocks * SdCard.BlockSize];
        for (var i = 0; i < data.Length; i++)
            data[i] = (byte)((i * 7) + (i / SdCard.BlockSize));
        return data;
    }

    private static void Run(SdRig rig, Plan plan, SdhciTransferMode mode, FakeDmaMemory dma, out byte[] got, out byte[] expected)
    {
        var dmaOrNull = mode == SdhciTransferMode.Pio ? null : dma;
        if (plan.Write)
        {
            expected = Pattern(plan.Blocks);
            rig.Card.WriteBlocks(Lba, expected, mode, dmaOrNull);
            got = new byte[expected.Length];
            for (var block = 0; block < plan.Blocks; block++)
                rig.Fake.Card.ReadImageBlock(Lba + block).CopyTo(got, block * SdCard.BlockSize);
        }
        else
        {
            expected = CardImage.Blocks(Lba, plan.Blocks);
            got = rig.Card.ReadBlocks(Lba, plan.Blocks, mode, dmaOrNull);
        }
    }

    private static int Count(SdRig rig, int index) => rig.Fake.Commands.Count(c => c.Index == index && !c.Application);

    [Theory]
    [MemberData(nameof(Faults))]
    public void An_error_once_is_recovered_and_the_data_is_right(Phase phase, int index, SdhciInterrupt error, ushort autoStatus, SdhciTransferMode mode, bool leftInData)
    {
        var plan = PlanFor(phase, index, error);
        var (rig, dma) = Rig(plan);
        var dataCommand = plan.Write ? (plan.Blocks == 1 ? 24 : 25) : (plan.Blocks == 1 ? 17 : 18);
        rig.Fake.Commands.Clear();
        rig.Fake.Resets.Clear();
        rig.Fake.Inject(phase, index, error, autoCmdStatus: autoStatus);

        Run(rig, plan, mode, dma, out var got, out var expected);

        Assert.Equal(expected, got);
        Assert.Equal(0, rig.Fake.FaultsLeft);
        Assert.Equal(1, rig.Card.RetriesMade);
        Assert.Equal(2, Count(rig, index == 23 ? 23 : dataCommand));                // the command, then its retry
        Assert.Contains(rig.Fake.Resets, r => r.HasFlag(SdhciReset.CommandLine));  // the CMD line was reset
        var commands = rig.Fake.Commands.Select(c => c.Index).ToList();
        var status = commands.IndexOf(13);
        Assert.True(status > 0, "CMD13 after the error");
        // CMD12 exactly when the card was left sending or receiving; the auto-CMD12 of good transfers is not counted here.
        Assert.Equal(leftInData, commands[status + 1] == 12);
        if (phase is Phase.Data or Phase.AutoCmd12)
            Assert.Contains(SdhciReset.CommandLine | SdhciReset.DataLine, rig.Fake.Resets);
    }

    [Theory]
    [MemberData(nameof(Faults))]
    public void An_error_that_persists_fails_with_the_command_the_bits_the_card_state_and_the_retries(
        Phase phase, int index, SdhciInterrupt error, ushort autoStatus, SdhciTransferMode mode, bool leftInData)
    {
        var plan = PlanFor(phase, index, error);
        var (rig, dma) = Rig(plan);
        rig.Fake.Commands.Clear();
        rig.Fake.Inject(phase, index, error, times: 100, autoCmdStatus: autoStatus);

        var failure = Assert.Throws<SdhciException>(() => Run(rig, plan, mode, dma, out _, out _));

        var errorBits = (ushort)((uint)error >> 16);
        Assert.Equal(index, failure.CommandIndex);
        Assert.StartsWith($"CMD{index} (", failure.Message, StringComparison.Ordinal);
        Assert.Contains(SdhciException.DescribeErrorStatus(errorBits), failure.Message, StringComparison.Ordinal);
        Assert.Equal(errorBits, failure.ErrorInterruptStatus);
        Assert.Equal(SdCardState.Transfer, failure.CardState);
        Assert.Contains("Card state after recovery: Transfer (CMD13 status 0x", failure.Message, StringComparison.Ordinal);
        Assert.Equal(leftInData, failure.Message.Contains("stopped with CMD12", StringComparison.Ordinal));
        Assert.Equal(SdCardOptions.DefaultRetries, failure.Retries);
        Assert.Contains($"{SdCardOptions.DefaultRetries} retries made", failure.Message, StringComparison.Ordinal);
        Assert.Equal(SdCardOptions.DefaultRetries + 1, Count(rig, index));
        Assert.IsType<SdhciException>(failure.InnerException);
        if (phase == Phase.AutoCmd12)
        {
            Assert.Equal(autoStatus, failure.AutoCmdErrorStatus);
            Assert.Contains(SdhciException.DescribeAutoCmdErrorStatus(autoStatus), failure.Message, StringComparison.Ordinal);
        }

        if (error == SdhciInterrupt.AdmaError)
        {
            Assert.Equal((byte)0x03, failure.AdmaErrorStatus);
            Assert.Equal(DmaAt, failure.AdmaDescriptorAddress);
            Assert.Contains($"descriptor address 0x{DmaAt:x}", failure.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Several_error_bits_at_once_are_all_named()
    {
        var (rig, _) = Rig(new Plan(false, 8, false), retries: 1);
        rig.Fake.Inject(Phase.Data, 18, SdhciInterrupt.DataCrcError | SdhciInterrupt.DataEndBitError | SdhciInterrupt.CurrentLimitError, times: 2);

        var failure = Assert.Throws<SdhciException>(() => rig.Card.ReadBlocks(Lba, 8));

        Assert.Equal(SdhciError.DataCrc, failure.Error);
        Assert.Contains("Error Interrupt Status 0x00e0: Data CRC Error, Data End Bit Error, Current Limit Error", failure.Message, StringComparison.Ordinal);
        Assert.Contains("1 retry made", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_retry_count_is_an_option_and_zero_fails_at_once()
    {
        var (rig, _) = Rig(new Plan(false, 8, false), retries: 0);
        rig.Fake.Inject(Phase.Data, 18, SdhciInterrupt.DataCrcError);

        var failure = Assert.Throws<SdhciException>(() => rig.Card.ReadBlocks(Lba, 8));

        Assert.Equal(0, failure.Retries);
        Assert.Contains("0 retries made", failure.Message, StringComparison.Ordinal);
        Assert.Equal(CardImage.Blocks(Lba, 8), rig.Card.ReadBlocks(Lba, 8));       // and the card is usable right after
    }

    [Fact]
    public void An_error_the_card_reports_in_its_status_is_not_retried()
    {
        var (rig, _) = Rig(new Plan(false, 1, false));
        rig.Fake.Card.NextDataCommandStatusErrors = SdCardStatus.OutOfRange;

        var failure = Assert.Throws<SdhciException>(() => rig.Card.ReadBlocks(Lba, 1));

        Assert.Equal(SdhciError.CardStatus, failure.Error);
        Assert.Equal(0, failure.Retries);
        Assert.Contains("Not retried: the card itself refused the command", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, Count(rig, 17));
    }

    [Theory]
    [InlineData(Phase.Command, 18, false)]
    [InlineData(Phase.Response, 25, true)]
    [InlineData(Phase.Data, 18, false)]
    [InlineData(Phase.Data, 25, true)]
    [InlineData(Phase.Command, 13, false)]
    public void A_card_pulled_mid_command_is_reported_as_removed_and_not_retried(Phase phase, int index, bool write)
    {
        var (rig, dma) = Rig(new Plan(write, 8, false));
        if (index == 13)
            rig.Fake.Inject(Phase.Data, 18, SdhciInterrupt.DataCrcError);           // the recovery's CMD13 is where it goes
        rig.Fake.RemoveCardDuring(phase, index);
        rig.Fake.Commands.Clear();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var failure = Assert.Throws<SdhciException>(() =>
        {
            if (write)
                rig.Card.WriteBlocks(Lba, Pattern(8), SdhciTransferMode.Adma2, dma);
            else
                rig.Card.ReadBlocks(Lba, 8, SdhciTransferMode.Adma2, dma);
        });

        Assert.Equal(SdhciError.CardRemoved, failure.Error);
        Assert.Equal(index, failure.CommandIndex);
        Assert.Contains("card removed", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Card Removal interrupt", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, rig.Card.RetriesMade);
        Assert.Equal(1, Count(rig, write ? 25 : 18));                              // never sent again
        Assert.Equal(SdhciReset.CommandLine | SdhciReset.DataLine, rig.Fake.Resets[^1]);
        Assert.True(clock.Elapsed < SdRig.ShortTimeout, $"the removal ended the wait at once, not after the data timeout ({clock.Elapsed})");
    }

    /// <summary>
    /// A card ejected from QEMU's monitor mid-read (tools/vm/rig --eject-card-on, ProbeCardRemovalTests):
    /// Card Removal comes with the Transfer Complete of a command whose blocks are all zeros. The zeros
    /// must never reach the caller as data: the blocks of the commands before are delivered, the
    /// command the card went in fails as removed, nothing is retried.
    /// </summary>
    [Theory]
    [InlineData(SdhciTransferMode.Pio, false)]
    [InlineData(SdhciTransferMode.Sdma, false)]
    [InlineData(SdhciTransferMode.Adma2, false)]
    [InlineData(SdhciTransferMode.Pio, true)]
    [InlineData(SdhciTransferMode.Adma2, true)]
    public void A_card_pulled_while_the_controller_completes_the_transfer_with_zeros_is_reported_as_removed(SdhciTransferMode mode, bool write)
    {
        var (rig, dma) = Rig(new Plan(write, 24, false));
        var index = write ? 25 : 18;
        rig.Fake.RemoveCardDuringDataButComplete(index, after: 1);
        rig.Fake.Commands.Clear();
        var delivered = new List<(long Lba, byte[] Blocks)>();

        var failure = Assert.Throws<SdhciException>(() =>
        {
            if (write)
                rig.Card.WriteBlocks(Lba, Pattern(24), mode, dma);
            else
                rig.Card.ReadBlocks(Lba, 24, (lba, blocks) => delivered.Add((lba, blocks.ToArray())), mode, dma);
        });

        Assert.Equal(SdhciError.CardRemoved, failure.Error);
        Assert.Equal(index, failure.CommandIndex);
        Assert.Contains("card removed during the command (Card Removal interrupt, Present State 0x24 Card Inserted reads 0)", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Error Interrupt Status", failure.Message, StringComparison.Ordinal);   // no error bit came: nothing to decode
        Assert.Equal(0, rig.Card.RetriesMade);
        Assert.Equal(2, Count(rig, index));
        if (!write)
        {
            var (lba, blocks) = Assert.Single(delivered);                                      // the first command's 8 blocks, not the zeros
            Assert.Equal(Lba, lba);
            Assert.Equal(Enumerable.Range(0, 8).SelectMany(b => rig.Fake.Card.ReadImageBlock(Lba + b)).ToArray(), blocks);
        }
    }
}
