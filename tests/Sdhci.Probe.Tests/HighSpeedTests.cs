using System.Text.Json;
using Sdhci.Probe.Commands;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>
/// High Speed: the CMD6 status block decoded, the query and the switch against a model of QEMU 7.2's card
/// (sd_function_switch), the host's High Speed Enable and 50 MHz clock, and every reason to stay at
/// Default Speed: the cap, the host, an old card, a card without command class 10, without High Speed,
/// refusing, busy, or silent.
/// </summary>
public class HighSpeedTests
{
    private const ulong Zcu102WithoutHighSpeed = 0x280737ec6481UL & ~(1UL << 21);

    /// <summary>QEMU 7.2's answer to CMD6 0x00FFFFF1: 1 mA, group 6..2 support 0x8001 (group 2 0x8043), group 1 0x8003, groups 6..2 0xF, group 1 function 1.</summary>
    private static byte[] QemuQueryStatus()
    {
        var block = new byte[64];
        block[1] = 0x01;
        for (var i = 2; i <= 10; i += 2)
        {
            block[i] = 0x80;
            block[i + 1] = 0x01;
        }

        block[11] = 0x43;
        block[12] = 0x80;
        block[13] = 0x03;
        block[14] = 0xFF;
        block[15] = 0xFF;
        block[16] = 0xF1;
        return block;
    }

    private static SdRig Rig(FakeSdCard? card = null, ulong? capabilities = null, SdBusSpeed max = SdBusSpeed.High)
    {
        var fake = capabilities is { } caps ? new FakeSdController(caps, 0x2402, 0x1000, card) : FakeSdController.Zcu102(card);
        return new SdRig(fake, cardOptions: SdRig.FastCard() with { MaxBusSpeed = max });
    }

    private static byte[] ScrWithSpec(int sdSpec) => [(byte)sdSpec, 0x25, 0, 0, 0, 0, 0, 0];

    [Fact]
    public void The_CMD6_status_decodes_support_selection_current_and_version()
    {
        var status = SdSwitchStatus.Parse(QemuQueryStatus());

        Assert.Equal(1, status.MaxCurrentMilliamps);
        Assert.Equal(0x8003, status.Support(1));
        Assert.Equal(0x8043, status.Support(2));
        Assert.Equal(0x8001, status.Support(6));
        Assert.True(status.Supports(1, 1));
        Assert.False(status.Supports(1, 2));
        Assert.Equal(1, status.Selected(1));
        Assert.Equal(0xF, status.Selected(2));
        Assert.Equal(0xF, status.Selected(6));
        Assert.Equal(0, status.StructureVersion);
        Assert.False(status.Busy(1, 1));                                    // version 0 has no busy status
        Assert.Throws<ArgumentException>(() => SdSwitchStatus.Parse(new byte[63]));
        Assert.Throws<ArgumentOutOfRangeException>(() => status.Selected(7));
    }

    [Fact]
    public void Version_1_status_reports_busy_functions_and_the_argument_keeps_other_groups()
    {
        var block = QemuQueryStatus();
        block[17] = 1;
        block[29] = 0x02;                                                    // group 1, function 1 busy (bits 287:272)
        block[18] = 0x80;                                                    // group 6, function 15 busy (bits 367:352)

        var status = SdSwitchStatus.Parse(block);

        Assert.True(status.Busy(1, 1));
        Assert.False(status.Busy(1, 0));
        Assert.True(status.Busy(6, 15));
        Assert.Equal(0x00FF_FFF1u, SdSwitchStatus.AccessModeArgument(false, SdBusSpeed.High));
        Assert.Equal(0x80FF_FFF1u, SdSwitchStatus.AccessModeArgument(true, SdBusSpeed.High));
        Assert.Equal(0x80FF_FFF0u, SdSwitchStatus.AccessModeArgument(true, SdBusSpeed.Default));
    }

    [Fact]
    public void QEMUs_card_on_the_ZCU102_is_switched_to_High_Speed_at_50_MHz_and_still_reads_the_image()
    {
        var rig = Rig();

        var info = rig.Card.Initialize();

        Assert.Equal([0x00FF_FFF1u, 0x80FF_FFF1u], rig.Fake.Card.Cmd6Arguments);     // query, then switch
        Assert.Equal(1, rig.Fake.Card.AccessMode);
        Assert.Equal(SdBusSpeed.High, info.BusSpeed);
        Assert.Equal("card and host support it", info.BusSpeedReason);
        Assert.Equal("High Speed (50 MHz max, SD clock 50 MHz): card and host support it", info.BusSpeedText);
        Assert.Equal(1, info.SwitchStatus!.Selected(1));
        Assert.Equal(0x04, rig.Fake.HostControl1 & 0x04);                              // High Speed Enable
        Assert.True(rig.Host.HighSpeed);
        Assert.Equal(50_000_000, info.ClockHz);
        Assert.Equal(0x0107, rig.Fake.ClockControl);                                   // 100 MHz / 2, SD clock on again
        Assert.Equal(CardImage.Blocks(40, 9), rig.Card.ReadBlocks(40, 9));
        Assert.Equal(SdCardState.Transfer, rig.Fake.Card.State);
    }

    [Fact]
    public void The_cap_keeps_Default_Speed_without_any_CMD6()
    {
        var rig = Rig(max: SdBusSpeed.Default);

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.Default, info.BusSpeed);
        Assert.Contains("--max-speed default", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.StartsWith("Default Speed (25 MHz max, SD clock 25 MHz): ", info.BusSpeedText, StringComparison.Ordinal);
        Assert.Empty(rig.Fake.Card.Cmd6Arguments);
        Assert.Equal(0, rig.Fake.HostControl1 & 0x04);
        Assert.Equal(25_000_000, info.ClockHz);
        Assert.Equal(0x0207, rig.Fake.ClockControl);
    }

    [Fact]
    public void A_host_without_High_Speed_support_stays_at_Default_Speed()
    {
        var rig = Rig(capabilities: Zcu102WithoutHighSpeed);

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.Default, info.BusSpeed);
        Assert.Equal("the host lacks High Speed support (Capabilities bit 21 is clear)", info.BusSpeedReason);
        Assert.Empty(rig.Fake.Card.Cmd6Arguments);
        Assert.Equal(0, rig.Fake.HostControl1 & 0x04);
        Assert.Equal(25_000_000, info.ClockHz);
        Assert.Equal(SdhciError.NotSupported, Assert.Throws<SdhciException>(() => rig.Host.SetHighSpeed(true)).Error);
    }

    [Fact]
    public void A_physical_layer_1_0x_card_gets_no_CMD6()
    {
        var rig = Rig(new FakeSdCard { Scr = ScrWithSpec(0) });

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.Default, info.BusSpeed);
        Assert.Contains("physical layer 1.0x", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Empty(rig.Fake.Card.Cmd6Arguments);
        Assert.Equal(25_000_000, info.ClockHz);
    }

    [Fact]
    public void A_card_without_command_class_10_gets_no_CMD6()
    {
        var csd = (byte[])FakeSdCard.QemuCsd64MiB.Clone();
        csd[4] = 0x1f;                                                      // CCC 0x5f5 -> 0x1f5: class 10 gone
        var rig = Rig(new FakeSdCard { Csd = csd });

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.Default, info.BusSpeed);
        Assert.Contains("command class 10", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Contains("0x1f5", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Empty(rig.Fake.Card.Cmd6Arguments);
    }

    [Fact]
    public void A_card_without_High_Speed_is_only_queried()
    {
        var rig = Rig(new FakeSdCard { Group1Support = 0x8001 });

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.Default, info.BusSpeed);
        Assert.Contains("does not offer High Speed", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Contains("0x8001", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Equal([0x00FF_FFF1u], rig.Fake.Card.Cmd6Arguments);
        Assert.Equal(0, rig.Fake.Card.AccessMode);
        Assert.Equal(0, rig.Fake.HostControl1 & 0x04);
        Assert.Equal(CardImage.Blocks(0, 2), rig.Card.ReadBlocks(0, 2));
    }

    [Fact]
    public void A_card_that_cannot_switch_now_or_is_busy_stays_at_Default_Speed()
    {
        var refusing = Rig(new FakeSdCard { RefusesSwitch = true });
        var busy = Rig(new FakeSdCard { HighSpeedBusy = true });

        var refused = refusing.Card.Initialize();
        var waited = busy.Card.Initialize();

        Assert.Equal(SdBusSpeed.Default, refused.BusSpeed);
        Assert.Contains("reports 0xf", refused.BusSpeedReason, StringComparison.Ordinal);
        Assert.Equal(SdBusSpeed.Default, waited.BusSpeed);
        Assert.Contains("busy", waited.BusSpeedReason, StringComparison.Ordinal);
        Assert.Equal([0x00FF_FFF1u], refusing.Fake.Card.Cmd6Arguments);
        Assert.Equal([0x00FF_FFF1u], busy.Fake.Card.Cmd6Arguments);
    }

    [Fact]
    public void A_switch_that_reports_no_High_Speed_after_the_query_offered_it_fails_the_bring_up()
    {
        var rig = Rig(new FakeSdCard { FailsSwitchOnly = true });

        var error = Assert.Throws<SdhciException>(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.UnusableCard, error.Error);
        Assert.Equal(6, error.CommandIndex);
        Assert.Contains("the switch reports function 0xf", error.Message, StringComparison.Ordinal);
        Assert.Equal([0x00FF_FFF1u, 0x80FF_FFF1u], rig.Fake.Card.Cmd6Arguments);
        Assert.Equal(0, rig.Fake.HostControl1 & 0x04);                              // the host never left Default Speed
        Assert.Null(rig.Card.Info);
    }

    [Fact]
    public void A_card_silent_to_CMD6_stays_at_Default_Speed_and_its_stale_error_is_taken_by_CMD13()
    {
        var rig = Rig(new FakeSdCard { AnswersCmd6 = false });

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.Default, info.BusSpeed);
        Assert.Contains("did not answer CMD6", info.BusSpeedReason, StringComparison.Ordinal);
        var afterCmd6 = rig.Fake.Commands.SkipWhile(c => c.Index != 6 || c.Application).Skip(1).First();
        Assert.Equal(13, afterCmd6.Index);
        Assert.Equal(CardImage.Blocks(5, 3), rig.Card.ReadBlocks(5, 3));             // no ILLEGAL_COMMAND left for the read
    }

    [Fact]
    public void Init_reports_the_speed_mode_and_the_ADMA2_width_in_text_and_JSON()
    {
        var rig = Rig();
        rig.Card.Initialize();

        var text = CardCommands.Describe(rig.Card.Info!, rig.Host);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(CardReport.From(rig.Card.Info!, rig.Host), ProbeJson.Default.CardReport));
        var pci = new SdRig(FakeSdController.SdhciPci());
        pci.Card.Initialize();

        Assert.Contains("Bus speed: High Speed (50 MHz max, SD clock 50 MHz): card and host support it", text, StringComparison.Ordinal);
        Assert.Contains("DMA: ADMA2 with 64-bit addresses (Capabilities bit 28", text, StringComparison.Ordinal);
        Assert.Equal("high", json.RootElement.GetProperty("busSpeed").GetString());
        Assert.Equal("64-bit", json.RootElement.GetProperty("adma2").GetString());
        Assert.Contains("DMA: ADMA2 with 32-bit addresses (no 64-bit system bus", CardCommands.Describe(pci.Card.Info!, pci.Host), StringComparison.Ordinal);
        Assert.Contains("SD clock 26 MHz", pci.Card.Info!.BusSpeedText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("default", SdBusSpeed.Default)]
    [InlineData("high", SdBusSpeed.High)]
    public void Max_speed_values_name_the_modes(string key, SdBusSpeed speed)
    {
        Assert.Equal(speed, CardCommands.ParseSpeed(key));
        Assert.Equal(key, SdBusSpeeds.Key(speed));
    }
}
