using Sdhci.Probe.Commands;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>
/// UHS-I over the fake controller and card, which model what QEMU 7.2 cannot: a card that grants S18A, CMD11 and
/// the DAT[3:0] levels of the voltage switch, Host Control 2 (1.8 V, UHS Mode Select, Execute Tuning, Sampling
/// Clock Select) and a tuning that converges, gives up, or never ends.
/// </summary>
public class UhsTests
{
    private static FakeSdCard UhsCard(bool switchFails = false, ushort group4 = 0x8001) =>
        new(highCapacity: true, capacityBytes: 4L << 30) { Accepts18V = true, VoltageSwitchFails = switchFails, Group1Support = 0x800F, Group4Support = group4 };

    private static SdRig Rig(FakeSdCard card, SdBusSpeed max = SdBusSpeed.Sdr104, FakeSdController? fake = null)
    {
        fake ??= FakeSdController.Zcu102(card);
        return new SdRig(fake, cardOptions: SdRig.FastCard() with { MaxBusSpeed = max });
    }

    private static List<int> Indices(SdRig rig) => rig.Fake.Commands.Select(c => c.Index).ToList();

    [Fact]
    public void A_UHS_card_on_a_UHS_host_switches_to_1_8_V_selects_SDR104_and_tunes()
    {
        var rig = Rig(UhsCard(group4: 0x800F));
        rig.Fake.MaximumCurrent = 200u << 16;                          // 800 mA at 1.8 V

        var info = rig.Card.Initialize();

        Assert.Null(info.UhsNote);
        Assert.Equal(SdBusSpeed.Sdr104, info.BusSpeed);
        Assert.Equal(100_000_000, info.ClockHz);                       // the ZCU102's 100 MHz base clock, undivided
        Assert.Contains("card and host support it; 1.8 V signalling (CMD11)", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Contains("current limit 800 mA", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Contains("tuned in 3 CMD19", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.True(rig.Fake.Card.Signalling18V);
        Assert.Equal(0x0000_8B, rig.Fake.HostControl2 & 0xCF);         // SDR104 (3), 1.8 V (bit 3), tuned clock (bit 7), Execute Tuning clear
        Assert.Equal(3, rig.Fake.TuningCommands);
        Assert.Equal(0, rig.Fake.TuningDataPortAccesses);              // the tuning block is never read from the data port
        Assert.Equal(0x8000_3003u, rig.Fake.Card.Cmd6Arguments[^1] & 0x8000_F00Fu);   // switch: SDR104 and 800 mA
        Assert.Equal(0x80FF_3FF3u, rig.Fake.Card.Cmd6Arguments[^1]);

        // ACMD41 asked for 1.8 V (S18R), then CMD11 before CMD2.
        var commands = Indices(rig);
        Assert.Equal(0x0100_0000u, rig.Fake.Card.Acmd41Arguments[^1] & 0x0100_0000u);
        Assert.True(commands.IndexOf(11) > commands.LastIndexOf(41) && commands.IndexOf(11) < commands.IndexOf(2));

        // The switch itself: after CMD11 the SD clock stops, 1.8 V is enabled, then the clock starts again.
        var log = rig.Fake.Log;
        var cmd11 = log.IndexOf("cmd:11");
        var stop = log.FindIndex(cmd11, e => e.StartsWith("clk:", StringComparison.Ordinal) && (Convert.ToUInt16(e[4..], 16) & 4) == 0);
        var v18 = log.FindIndex(cmd11, e => e.StartsWith("hc2:", StringComparison.Ordinal) && (Convert.ToUInt16(e[4..], 16) & 8) != 0);
        var start = log.FindIndex(v18, e => e.StartsWith("clk:", StringComparison.Ordinal) && (Convert.ToUInt16(e[4..], 16) & 4) != 0);
        Assert.True(cmd11 < stop && stop < v18 && v18 < start, $"CMD11 {cmd11}, clock stop {stop}, 1.8 V {v18}, clock start {start}");

        var dma = new FakeDmaMemory(0x8000_0000, 1 << 16);
        rig.Fake.Attach(dma);
        Assert.Equal(CardImage.Blocks(1000, 16), rig.Card.ReadBlocks(1000, 16, SdhciTransferMode.Adma2, dma));
    }

    [Fact]
    public void Max_speed_sdr50_selects_SDR50_and_tunes_because_the_host_asks_for_it()
    {
        var rig = Rig(UhsCard(), SdBusSpeed.Sdr50);

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.Sdr50, info.BusSpeed);
        Assert.Equal(2, rig.Fake.HostControl2 & 7);
        Assert.Contains("capped by the options (--max-speed sdr50)", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Contains("current limit 200 mA (host allows an unstated amount at 1.8 V)", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Contains("tuned in 3 CMD19", info.BusSpeedReason, StringComparison.Ordinal);   // Capabilities bit 45 is set on the ZCU102
        Assert.Equal("SDR50", SdBusSpeeds.Name(info.BusSpeed));
    }

    [Fact]
    public void A_card_that_does_not_accept_1_8_V_stays_at_High_Speed_and_init_says_why()
    {
        var rig = Rig(new FakeSdCard());

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.High, info.BusSpeed);
        Assert.Equal("card and host support it", info.BusSpeedReason);             // the mode's reason, as before UHS-I
        Assert.Equal("the card did not accept 1.8 V signalling (ACMD41 S18A clear), so no UHS-I", info.UhsNote);
        Assert.Contains("UHS-I: the card did not accept 1.8 V", CardCommands.Describe(info), StringComparison.Ordinal);
        Assert.Equal(info.UhsNote, CardReport.From(info).Uhs);
        Assert.DoesNotContain(11, Indices(rig));
        Assert.Equal(0, rig.Fake.HostControl2 & 0x08);
    }

    [Fact]
    public void A_voltage_switch_that_fails_power_cycles_the_card_and_brings_it_up_at_3_3_V()
    {
        var rig = Rig(UhsCard(switchFails: true));

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.High, info.BusSpeed);
        Assert.Contains("1.8 V signal voltage switch failed (DAT[3:0] read 0x0 1 ms after the clock restarted", info.UhsNote, StringComparison.Ordinal);
        Assert.Contains("power-cycled and runs at 3.3 V", info.UhsNote, StringComparison.Ordinal);
        var commands = Indices(rig);
        Assert.Single(commands, 11);
        Assert.Equal(0, commands.LastIndexOf(0) < commands.IndexOf(11) ? 1 : 0);        // CMD0 again after CMD11: a new identification
        Assert.Equal(0u, rig.Fake.Card.Acmd41Arguments[^1] & 0x0100_0000u);             // and no S18R the second time
        Assert.Equal(0, rig.Fake.HostControl2 & 0x08);
        Assert.False(rig.Fake.Card.Signalling18V);
        Assert.Equal(CardImage.Blocks(0, 2), rig.Card.ReadBlocks(0, 2));
    }

    /// <summary>
    /// A tuning that does not converge (SD Host Controller 3.00, Host Control 2 register: the controller clears Execute Tuning with
    /// Sampling Clock Select clear, or never clears it within 40 CMD19): the bring-up falls back to SDR25, which needs
    /// no tuning: the host first (UHS Mode Select 1, 50 MHz), then CMD6 mode 1 to group 1 function 1; init says so.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_tuning_that_never_converges_falls_back_to_SDR25_and_init_says_why(bool hostGivesUp)
    {
        var rig = Rig(UhsCard());
        rig.Fake.TuningConvergesAfter = null;
        rig.Fake.TuningGivesUpAt40 = hostGivesUp;

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.High, info.BusSpeed);
        Assert.StartsWith("fell back from SDR104: sampling clock tuning for SDR104 did not converge in 40 tuning commands (the limit is 40), " +
            "so SDR25 (High Speed timing at 1.8 V, 50 MHz), which needs no tuning", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Contains("fell back from SDR104", CardCommands.Describe(info), StringComparison.Ordinal);
        Assert.Equal(SdhciHost.MaxTuningCommands, rig.Fake.TuningCommands);
        Assert.Equal(50_000_000, info.ClockHz);                                           // 100 MHz base / 2
        Assert.Equal(0x09, rig.Fake.HostControl2 & 0xCF);                                 // SDR25 (1), 1.8 V kept, tuning bits clear
        Assert.Equal(SdhciReset.CommandLine | SdhciReset.DataLine, rig.Fake.Resets[^1]);
        Assert.Equal(1, rig.Fake.Card.AccessMode);
        Assert.Equal(0x80FF_FFF1u, rig.Fake.Card.Cmd6Arguments[^1]);                      // SDR25; driver strength and current limit unchanged

        // The host left SDR104 before the CMD6: no command went out on the untuned 100 MHz clock.
        var log = rig.Fake.Log;
        var sdr25 = log.FindLastIndex(e => e.StartsWith("hc2:", StringComparison.Ordinal) && (Convert.ToUInt16(e[4..], 16) & 7) == 1);
        Assert.True(sdr25 >= 0 && sdr25 < log.LastIndexOf("cmd:6"), "UHS Mode Select SDR25 came after the fall-back CMD6");

        var dma = new FakeDmaMemory(0x8000_0000, 1 << 16);
        rig.Fake.Attach(dma);
        Assert.Equal(CardImage.Blocks(2000, 24), rig.Card.ReadBlocks(2000, 24, SdhciTransferMode.Adma2, dma));
    }

    [Fact]
    public void A_fall_back_the_card_refuses_fails_with_both_reasons()
    {
        var card = UhsCard();
        card.RefusedFunction = 1;                                                         // SDR25 refused after SDR104 was taken
        var rig = Rig(card);
        rig.Fake.TuningConvergesAfter = null;

        var error = Assert.Throws<SdhciException>(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.Tuning, error.Error);
        Assert.Equal(19, error.CommandIndex);
        Assert.Contains("sampling clock tuning for SDR104 did not converge in 40 tuning commands", error.Message, StringComparison.Ordinal);
        Assert.Contains("and the fall-back to SDR25 failed: CMD6 reports function 0xf for group 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("--max-speed high", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, rig.Fake.HostControl2 & 0xC0);                                    // Execute Tuning and Sampling Clock Select cleared
    }

    /// <summary>
    /// DDR50 (Physical Layer 3.01, 4.3.10, group 1 function 4; SD Host Controller 3.00, Capabilities bit 34 and UHS
    /// Mode Select 4): chosen when SDR104 is not allowed and the card and host have it, at 50 MHz, untuned.
    /// </summary>
    [Fact]
    public void Max_speed_ddr50_selects_DDR50_at_50_MHz_without_tuning()
    {
        var card = new FakeSdCard(highCapacity: true, capacityBytes: 4L << 30) { Accepts18V = true, Group1Support = 0x801F, Group4Support = 0x8001 };
        var rig = Rig(card, SdBusSpeed.Ddr50);

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.Ddr50, info.BusSpeed);
        Assert.Equal("DDR50", SdBusSpeeds.Name(info.BusSpeed));
        Assert.Equal("ddr50", CardReport.From(info).BusSpeed);
        Assert.Equal(50_000_000, info.ClockHz);
        Assert.Equal(0x0C, rig.Fake.HostControl2 & 0xCF);                                 // DDR50 (4), 1.8 V, no tuning bits
        Assert.Equal(0, rig.Fake.TuningCommands);
        Assert.Equal(4, rig.Fake.Card.AccessMode);
        Assert.Equal(4u, rig.Fake.Card.Cmd6Arguments[^1] & 0xF);
        Assert.Contains("capped by the options (--max-speed ddr50); 1.8 V signalling (CMD11)", info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Contains("no tuning (DDR50", info.BusSpeedReason, StringComparison.Ordinal);

        var dma = new FakeDmaMemory(0x8000_0000, 1 << 16);
        rig.Fake.Attach(dma);
        Assert.Equal(CardImage.Blocks(300, 16), rig.Card.ReadBlocks(300, 16, SdhciTransferMode.Adma2, dma));
    }

    [Theory]
    [InlineData(0x801F, 33, SdBusSpeed.Ddr50, "the host lacks SDR104 (Capabilities bit 33 is clear); 1.8 V")]
    [InlineData(0x8017, 34, SdBusSpeed.Sdr50, "the card does not offer SDR104 (CMD6 group 1 supports 0x8017); the host lacks DDR50 (Capabilities bit 34 is clear); 1.8 V")]
    [InlineData(0x8017, 33, SdBusSpeed.Ddr50, "the host lacks SDR104 (Capabilities bit 33 is clear); 1.8 V")]
    [InlineData(0x800F, 99, SdBusSpeed.Sdr104, "card and host support it; 1.8 V")]
    public void DDR50_comes_after_SDR104_and_before_SDR50_as_in_Linux(int group1, int clearedCapability, SdBusSpeed expected, string reason)
    {
        var card = new FakeSdCard(highCapacity: true, capacityBytes: 4L << 30) { Accepts18V = true, Group1Support = (ushort)group1 };
        var caps = 0x280737ec6481UL & ~(clearedCapability < 64 ? 1UL << clearedCapability : 0);
        var rig = Rig(card, fake: new FakeSdController(caps, 0x2402, 0x1000, card));

        var info = rig.Card.Initialize();

        Assert.Equal(expected, info.BusSpeed);
        Assert.StartsWith(reason, info.BusSpeedReason, StringComparison.Ordinal);
        Assert.Equal((int)expected, rig.Fake.HostControl2 & 7);                           // UHS Mode Select is the function number
        Assert.Equal(expected == SdBusSpeed.Ddr50 ? 0 : 3, rig.Fake.TuningCommands);      // SDR50 is tuned here: Capabilities bit 45
    }

    [Fact]
    public void Max_speed_high_never_asks_for_1_8_V()
    {
        var rig = Rig(UhsCard(), SdBusSpeed.High);

        var info = rig.Card.Initialize();

        Assert.Equal(SdBusSpeed.High, info.BusSpeed);
        Assert.All(rig.Fake.Card.Acmd41Arguments, a => Assert.Equal(0u, a & 0x0100_0000u));
        Assert.DoesNotContain(11, Indices(rig));
    }

    [Fact]
    public void A_host_without_UHS_capabilities_never_asks_for_1_8_V()
    {
        var card = UhsCard();
        var rig = Rig(card, fake: FakeSdController.SdhciPci(card));                      // a 2.00 controller: no Host Control 2, no SDR modes

        var info = rig.Card.Initialize();

        Assert.False(rig.Host.SupportsUhs);
        Assert.Equal(SdBusSpeed.High, info.BusSpeed);
        Assert.All(rig.Fake.Card.Acmd41Arguments, a => Assert.Equal(0u, a & 0x0100_0000u));
    }

    [Theory]
    [InlineData("sdr50", SdBusSpeed.Sdr50)]
    [InlineData("ddr50", SdBusSpeed.Ddr50)]
    [InlineData("sdr104", SdBusSpeed.Sdr104)]
    [InlineData(null, SdBusSpeed.Sdr104)]
    public void Max_speed_takes_the_UHS_I_modes_and_defaults_to_the_fastest(string? key, SdBusSpeed expected)
    {
        Assert.Equal(expected, CardCommands.ParseSpeed(key));
        Assert.Equal(SdBusSpeed.Sdr104, new SdCardOptions().MaxBusSpeed);
    }

    [Fact]
    public void A_cap_orders_the_modes_by_speed_not_by_function_number()
    {
        Assert.True(SdBusSpeed.Ddr50.Allows(SdBusSpeed.Sdr50));
        Assert.False(SdBusSpeed.Ddr50.Allows(SdBusSpeed.Sdr104));
        Assert.False(SdBusSpeed.Sdr50.Allows(SdBusSpeed.Ddr50));
        Assert.True(SdBusSpeed.Sdr104.Allows(SdBusSpeed.Ddr50));
        Assert.True(SdBusSpeeds.IsUhs(SdBusSpeed.Ddr50));
        Assert.Equal(50_000_000, SdBusSpeeds.MaxClockHz(SdBusSpeed.Ddr50));
    }
}
