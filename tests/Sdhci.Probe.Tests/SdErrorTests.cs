using System.Diagnostics;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>Every failure ends in a typed <see cref="SdhciException"/> that names the command and the raw status, within its timeout.</summary>
public class SdErrorTests
{
    private static readonly TimeSpan NeverLongerThan = TimeSpan.FromSeconds(3);

    private static SdhciException Fails(Action action, out TimeSpan elapsed)
    {
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<SdhciException>(action);
        elapsed = clock.Elapsed;
        Assert.True(elapsed < NeverLongerThan, $"took {elapsed}");
        return error;
    }

    private static SdhciException Fails(Action action) => Fails(action, out _);

    [Theory]
    [InlineData(SdhciInterrupt.CommandTimeoutError, SdhciError.CommandTimeout, 0x0001, "did not answer")]
    [InlineData(SdhciInterrupt.CommandCrcError, SdhciError.CommandCrc, 0x0002, "CRC")]
    [InlineData(SdhciInterrupt.CommandEndBitError, SdhciError.CommandEndBit, 0x0004, "end bit")]
    [InlineData(SdhciInterrupt.CommandIndexError, SdhciError.CommandIndex, 0x0008, "index")]
    public void Command_errors_name_the_command_and_the_raw_error_status(SdhciInterrupt injected, SdhciError expected, int raw, string words)
    {
        var rig = new SdRig();
        rig.Fake.InjectCommandError(2, injected);

        var error = Fails(() => rig.Card.Initialize());

        Assert.Equal(expected, error.Error);
        Assert.Equal(2, error.CommandIndex);
        Assert.False(error.IsApplicationCommand);
        Assert.Equal("CMD2 (ALL_SEND_CID)", error.Command);
        Assert.Equal(raw, error.ErrorInterruptStatus);
        Assert.StartsWith("CMD2 (ALL_SEND_CID): ", error.Message, StringComparison.Ordinal);
        Assert.Contains(words, error.Message, StringComparison.Ordinal);
        Assert.Contains($"Error Interrupt Status 0x{raw:x4}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void After_a_command_error_the_CMD_line_is_reset_and_the_next_bring_up_succeeds()
    {
        var rig = new SdRig();
        rig.Fake.InjectCommandError(9, SdhciInterrupt.CommandCrcError);

        Fails(() => rig.Card.Initialize());
        var resetsAfterError = rig.Fake.Resets.ToList();
        var info = rig.Card.Initialize();

        Assert.Equal(SdhciReset.CommandLine, resetsAfterError[^1]);
        Assert.Equal("QEMU!", info.Cid.ProductName);
        Assert.Equal(0u, rig.Fake.InterruptStatus);
    }

    [Fact]
    public void Without_a_card_bring_up_stops_before_any_command_and_says_no_card()
    {
        var rig = new SdRig();
        rig.Fake.CardInserted = false;

        var error = Fails(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.NoCard, error.Error);
        Assert.StartsWith("No card", error.Message, StringComparison.Ordinal);
        Assert.Contains("Present State (0x24)", error.Message, StringComparison.Ordinal);
        Assert.Empty(rig.Fake.Commands);
    }

    [Fact]
    public void A_card_pulled_after_bring_up_turns_the_command_timeout_into_no_card()
    {
        var rig = SdRig.Initialized();
        rig.Fake.CardInserted = false;

        var error = Fails(() => rig.Card.ReadBlocks(0, 1));

        Assert.Equal(SdhciError.NoCard, error.Error);
        Assert.Equal(17, error.CommandIndex);
        Assert.Equal(0x0001, error.ErrorInterruptStatus);
        Assert.Contains("no card", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ADMA_error_reports_the_ADMA_state_and_resets_the_DAT_line()
    {
        var rig = SdRig.Initialized();
        var dma = new FakeDmaMemory(0x8000_0000, 1 << 16);
        rig.Fake.Attach(dma);
        rig.Fake.AdmaFault = true;

        var error = Fails(() => rig.Card.ReadBlocks(0, 4, SdhciTransferMode.Adma2, dma));

        Assert.Equal(SdhciError.Adma, error.Error);
        Assert.Equal(18, error.CommandIndex);
        Assert.Equal((byte)0x01, error.AdmaErrorStatus);
        Assert.Equal(0x0200, error.ErrorInterruptStatus);
        Assert.Contains("ST_FDS", error.Message, StringComparison.Ordinal);
        Assert.Contains("descriptor address 0x80000000", error.Message, StringComparison.Ordinal);
        Assert.Equal(SdhciReset.CommandLine | SdhciReset.DataLine, rig.Fake.Resets[^1]);
    }

    [Fact]
    public void An_ADMA_table_that_points_nowhere_fails_in_the_transfer_state()
    {
        var rig = SdRig.Initialized();
        var unreachable = new FakeDmaMemory(0x9000_0000, 1 << 16);  // never attached: the controller cannot reach it

        var error = Fails(() => rig.Card.ReadBlocks(0, 4, SdhciTransferMode.Adma2, unreachable));

        Assert.Equal(SdhciError.Adma, error.Error);
        Assert.Equal((byte)0x01, error.AdmaErrorStatus);
    }

    [Fact]
    public void A_card_that_never_leaves_busy_in_ACMD41_gives_up_after_the_timeout()
    {
        var rig = new SdRig();
        rig.Fake.Card.NeverReady = true;

        var error = Fails(() => rig.Card.Initialize(), out var elapsed);

        Assert.Equal(SdhciError.CardBusy, error.Error);
        Assert.Equal(41, error.CommandIndex);
        Assert.True(error.IsApplicationCommand);
        Assert.Equal("ACMD41 (SD_SEND_OP_COND)", error.Command);
        Assert.Equal(0x00ff_ff00u, error.CardStatus);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(150), $"gave up after {elapsed}");
        Assert.True(rig.Fake.Card.Acmd41Arguments.Count > 3);
    }

    [Theory]
    [InlineData(SdhciInterrupt.DataTimeoutError, SdhciError.DataTimeout, 0x0010)]
    [InlineData(SdhciInterrupt.DataCrcError, SdhciError.DataCrc, 0x0020)]
    [InlineData(SdhciInterrupt.DataEndBitError, SdhciError.DataEndBit, 0x0040)]
    public void Data_errors_are_typed_and_reset_both_lines(SdhciInterrupt injected, SdhciError expected, int raw)
    {
        var rig = new SdRig(cardOptions: SdRig.FastCard() with { Retries = 0 });   // no retry: the first error is the answer
        rig.Card.Initialize();
        rig.Fake.NextDataError = injected;

        var error = Fails(() => rig.Card.ReadBlocks(0, 2));

        Assert.Equal(expected, error.Error);
        Assert.Equal(18, error.CommandIndex);
        Assert.Equal(raw, error.ErrorInterruptStatus);
        Assert.Equal(SdhciReset.CommandLine | SdhciReset.DataLine, rig.Fake.Resets[^1]);
        Assert.Equal(CardImage.Blocks(0, 2), rig.Card.ReadBlocks(0, 2));        // the engine recovered
    }

    [Fact]
    public void A_data_error_in_the_SCR_read_names_ACMD51()
    {
        var rig = new SdRig();
        rig.Fake.NextDataError = SdhciInterrupt.DataCrcError;

        var error = Fails(() => rig.Card.Initialize());

        Assert.Equal("ACMD51 (SEND_SCR)", error.Command);
        Assert.Equal(SdhciError.DataCrc, error.Error);
    }

    [Fact]
    public void A_controller_that_never_completes_times_out_and_suggests_polling()
    {
        var rig = new SdRig();
        rig.Host.Initialize();
        rig.Fake.CompletionNeverArrives = true;

        var error = Fails(() => rig.Host.SendCommand(0, 0, SdResponseType.None), out var elapsed);

        Assert.Equal(SdhciError.Timeout, error.Error);
        Assert.Equal(0, error.CommandIndex);
        Assert.Contains("no Command Complete within 100 ms", error.Message, StringComparison.Ordinal);
        Assert.Contains("--poll", error.Message, StringComparison.Ordinal);
        Assert.True(elapsed >= SdRig.ShortTimeout);
    }

    [Fact]
    public void A_CMD_line_that_stays_busy_is_reported_before_the_command_is_written()
    {
        var rig = new SdRig();
        rig.Host.Initialize();
        rig.Fake.CommandInhibitStuck = true;
        rig.Fake.Log.Clear();

        var error = Fails(() => rig.Host.SendCommand(0, 0, SdResponseType.None));

        Assert.Equal(SdhciError.LineBusy, error.Error);
        Assert.Contains("Command Inhibit (CMD)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cmd:0", rig.Fake.Log);
    }

    [Fact]
    public void A_reset_that_never_finishes_is_a_reset_timeout()
    {
        var rig = new SdRig();
        rig.Fake.ResetNeverCompletes = true;

        var error = Fails(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.ResetTimeout, error.Error);
        Assert.Null(error.CommandIndex);
        Assert.Contains("0x2F", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_clock_that_never_stabilises_is_reported()
    {
        var rig = new SdRig();
        rig.Fake.ClockNeverStable = true;

        var error = Fails(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.ClockNotStable, error.Error);
        Assert.Contains("Internal Clock Stable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dead_controller_is_named_with_what_to_do()
    {
        var rig = new SdRig();
        rig.Fake.Dead = true;

        var error = Fails(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.ControllerNotResponding, error.Error);
        Assert.Contains("clk_ignore_unused", error.Message, StringComparison.Ordinal);
        Assert.Empty(rig.Fake.Resets);
    }

    [Fact]
    public void A_wrong_CMD8_echo_makes_the_card_unusable()
    {
        var rig = new SdRig();
        rig.Fake.Card.BadCmd8Echo = true;

        var error = Fails(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.UnusableCard, error.Error);
        Assert.Equal(8, error.CommandIndex);
        Assert.Contains("echoed 0x155, not 0x1aa", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_in_the_cards_status_is_decoded()
    {
        var rig = SdRig.Initialized();
        rig.Fake.Card.NextDataCommandStatusErrors = SdCardStatus.OutOfRange | SdCardStatus.AddressError;

        var error = Fails(() => rig.Card.ReadBlocks(0, 1));

        Assert.Equal(SdhciError.CardStatus, error.Error);
        Assert.Equal(17, error.CommandIndex);
        Assert.Contains("AddressError, OutOfRange", error.Message, StringComparison.Ordinal);
        Assert.Equal(0xC000_0000u, error.CardStatus & 0xC000_0000u);
    }

    [Fact]
    public void A_host_without_3_3_or_3_0_V_cannot_power_a_card()
    {
        var fake = new FakeSdController(0x04000000 | (100 << 8), 0x0002, 0x100); // 1.8 V only
        var rig = new SdRig(fake);

        var error = Fails(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.NoUsableVoltage, error.Error);
    }

    [Fact]
    public void A_host_with_only_3_0_V_powers_at_3_0_V_and_offers_that_window()
    {
        var fake = new FakeSdController(0x02000000 | 0x00480000 | (100 << 8), 0x0002, 0x100); // 3.0 V, SDMA, ADMA2, 100 MHz
        var rig = new SdRig(fake);

        rig.Card.Initialize();

        Assert.Equal(0x0D, rig.Fake.PowerControl);
        Assert.Equal(0x4006_0000u, rig.Fake.Card.Acmd41Arguments[^1]);
    }

    [Fact]
    public void A_controller_without_a_base_clock_needs_one_given()
    {
        var fake = new FakeSdController(0x01000000, 0x0002, 0x100); // 3.3 V, base clock field 0
        var rig = new SdRig(fake);

        var error = Fails(() => rig.Card.Initialize());
        var given = SdhciHost.Create(fake, rig.Interrupt, SdRig.FastHost() with { BaseClockHz = 200_000_000 });
        given.Initialize();

        Assert.Equal(SdhciError.NoBaseClock, error.Error);
        Assert.Contains("BaseClockHz", error.Message, StringComparison.Ordinal);
        Assert.Equal(200_000_000 / 500, given.ClockHz);
    }
}
