using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

public class SdClockTests
{
    private const long Base100MHz = 100_000_000;

    [Theory]
    [InlineData(0x0007, 100_000_000)] // N = 0: the base clock itself
    [InlineData(0x0107, 50_000_000)]  // N = 1: base / 2
    [InlineData(0x0207, 25_000_000)]  // N = 2: default speed
    [InlineData(0x7d07, 400_000)]     // N = 125: identification speed
    [InlineData(0x0047, 195_312)]     // N = 0x100, only in the upper bits 7:6: base / 512
    [InlineData(0xffc7, 48_875)]      // N = 0x3FF, the slowest: base / 2046
    public void Divided_mode_of_spec_3_00_gives_base_over_2N_with_a_10_bit_N(ushort clockControl, long expectedHz)
    {
        Assert.Equal(expectedHz, SdhciClock.SdClockHz(Base100MHz, clockControl, SdhciSpecVersion.Version300));
    }

    [Fact]
    public void Before_spec_3_00_the_upper_divider_bits_do_not_count()
    {
        const ushort clockControl = 0x80c7; // N[7:0] = 0x80, bits 7:6 set but reserved in 2.00

        Assert.Equal(0x80, SdhciClock.Divider(clockControl, SdhciSpecVersion.Version200));
        Assert.Equal(0x380, SdhciClock.Divider(clockControl, SdhciSpecVersion.Version300));
        Assert.Equal(52_000_000 / 256, SdhciClock.SdClockHz(52_000_000, clockControl, SdhciSpecVersion.Version200));
    }

    [Fact]
    public void Programmable_mode_gives_base_times_multiplier_over_N_plus_1()
    {
        var clockControl = (ushort)(SdhciClock.EncodeDivider(9) | 0x0020 | 0x0007); // Clock Generator Select

        // Multiplier field 3 in the capabilities means x4: 100 MHz x 4 / 10.
        Assert.Equal(40_000_000, SdhciClock.SdClockHz(Base100MHz, clockControl, SdhciSpecVersion.Version300, clockMultiplier: 4));
        // Without a multiplier the controller has no programmable mode and bit 5 is ignored: base / 18.
        Assert.Equal(5_555_555, SdhciClock.SdClockHz(Base100MHz, clockControl, SdhciSpecVersion.Version300));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(125)]
    [InlineData(0x100)]
    [InlineData(0x3FF)]
    public void Encoded_divider_reads_back_as_the_same_N(int divider)
    {
        var clockControl = SdhciClock.EncodeDivider(divider);

        Assert.Equal(divider, SdhciClock.Divider(clockControl, SdhciSpecVersion.Version300));
        Assert.Equal(0, clockControl & 0x3F); // only bits 15:6 carry the divider
    }

    [Fact]
    public void Divider_beyond_10_bits_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SdhciClock.EncodeDivider(0x400));
    }

    [Theory]
    [InlineData(100_000_000, 400_000, 125)]
    [InlineData(100_000_000, 25_000_000, 2)]
    [InlineData(52_000_000, 400_000, 65)]    // 52 MHz / 130 = 400 kHz exactly
    [InlineData(52_000_000, 25_000_000, 2)]  // 26 MHz would be too fast: 13 MHz
    [InlineData(50_000_000, 50_000_000, 0)]
    public void Divider_for_a_target_is_the_fastest_clock_not_above_it(long baseHz, long targetHz, int expected)
    {
        var divider = SdhciClock.DividerFor(baseHz, targetHz, SdhciSpecVersion.Version300);

        Assert.Equal(expected, divider);
        Assert.True(SdhciClock.SdClockHz(baseHz, SdhciClock.EncodeDivider(divider), SdhciSpecVersion.Version300) <= targetHz);
    }

    [Fact]
    public void Before_spec_3_00_the_divider_for_a_target_is_a_power_of_two()
    {
        // 52 MHz to 400 kHz: 52 / 2N <= 0.4 needs N >= 65, the next power of two is 128 (203 kHz).
        Assert.Equal(128, SdhciClock.DividerFor(52_000_000, 400_000, SdhciSpecVersion.Version200));
    }

    [Fact]
    public void Decoded_clock_control_shows_the_divider_and_the_resulting_SD_clock()
    {
        var fake = FakeSdhciController.Zcu102();
        fake.Set16(0x2C, 0x7d07);

        var lines = SdhciDump.FormatDecoded(SdhciDump.Read(fake)).Split('\n');

        Assert.Contains("0x02c Clock Control (16-bit) = 0x7d07", lines);
        CapabilitiesTests.AssertField(lines, "2", "SD Clock Enable", "yes");
        CapabilitiesTests.AssertField(lines, "15:8", "SDCLK Frequency Select", "125 (0x7d)");
        CapabilitiesTests.AssertField(lines, "", "SDCLK Divider N", "125: base / 250");
        CapabilitiesTests.AssertField(lines, "", "SD Clock Frequency", "400 kHz (SD Clock Enable is set; base clock 100 MHz)");
    }

    [Fact]
    public void Decoded_preset_value_shows_the_clock_it_would_select()
    {
        var fake = FakeSdhciController.Zcu102();
        fake.Set16(0x62, 0x0002); // default speed preset: N = 2

        var document = SdhciDump.Decode(SdhciDump.Read(fake));

        var preset = document.Registers.Single(r => r.Offset == 0x62);
        var clock = preset.Fields.Single(f => f.Name == "SD Clock Frequency");
        Assert.Equal(25_000_000UL, clock.Value);
        Assert.Null(clock.Shift);
    }
}
