using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>The capabilities and versions of the QEMU machines the rig runs on, decoded bit by bit.</summary>
public class CapabilitiesTests
{
    [Fact]
    public void Zcu102_Arasan_version_0x2402_is_spec_3_00_vendor_0x24()
    {
        var version = new SdhciHostVersion(0x2402);

        Assert.Equal(SdhciSpecVersion.Version300, version.SpecVersion);
        Assert.Equal("3.00", version.SpecVersionText);
        Assert.Equal(0x24, version.VendorVersion);
    }

    [Fact]
    public void Zcu102_Arasan_capabilities_0x280737ec6481_decode_to_a_100_MHz_ADMA2_64_bit_UHS_I_controller()
    {
        var caps = new SdhciCapabilities(0x280737ec6481, SdhciSpecVersion.Version300);

        Assert.Equal(1, caps.TimeoutClockFrequency);
        Assert.True(caps.TimeoutClockInMHz);
        Assert.Equal(1_000_000, caps.TimeoutClockHz);
        Assert.Equal(100, caps.BaseClockMHz);
        Assert.Equal(100_000_000, caps.BaseClockHz);
        Assert.Equal(512, caps.MaxBlockLength);
        Assert.True(caps.Supports8BitBus);
        Assert.True(caps.Adma2);
        Assert.False(caps.Adma1);
        Assert.True(caps.HighSpeed);
        Assert.True(caps.Sdma);
        Assert.True(caps.SuspendResume);
        Assert.True(caps.Voltage33);
        Assert.True(caps.Voltage30);
        Assert.True(caps.Voltage18);
        Assert.False(caps.SystemBus64BitV4);
        Assert.True(caps.SystemBus64Bit);
        Assert.True(caps.AsyncInterrupt);
        Assert.Equal(SdhciSlotType.Removable, caps.SlotType);

        // Capabilities_1 (0x44) = 0x00002807.
        Assert.True(caps.Sdr50);
        Assert.True(caps.Sdr104);
        Assert.True(caps.Ddr50);
        Assert.False(caps.DriverTypeA);
        Assert.False(caps.DriverTypeC);
        Assert.False(caps.DriverTypeD);
        Assert.Equal(8, caps.RetuningTimerCount);
        Assert.Equal(128, caps.RetuningPeriodSeconds);
        Assert.True(caps.UseTuningForSdr50);
        Assert.Equal(1, caps.RetuningMode);
        Assert.Equal(0, caps.ClockMultiplier);
    }

    [Fact]
    public void Sdhci_pci_version_0x2401_is_spec_2_00()
    {
        var version = new SdhciHostVersion(0x2401);

        Assert.Equal(SdhciSpecVersion.Version200, version.SpecVersion);
        Assert.Equal("2.00", version.SpecVersionText);
        Assert.Equal(0x24, version.VendorVersion);
    }

    [Fact]
    public void Sdhci_pci_capabilities_0x057834b4_decode_to_a_52_MHz_ADMA2_32_bit_controller()
    {
        var caps = new SdhciCapabilities(0x057834b4, SdhciSpecVersion.Version200);

        Assert.Equal(52, caps.TimeoutClockFrequency);
        Assert.True(caps.TimeoutClockInMHz);
        Assert.Equal(52_000_000, caps.TimeoutClockHz);
        Assert.Equal(52, caps.BaseClockMHz);
        Assert.Equal(512, caps.MaxBlockLength);
        Assert.False(caps.Supports8BitBus);
        Assert.True(caps.Adma2);
        Assert.True(caps.Adma1);
        Assert.True(caps.HighSpeed);
        Assert.True(caps.Sdma);
        Assert.False(caps.SuspendResume);
        Assert.True(caps.Voltage33);
        Assert.False(caps.Voltage30);
        Assert.True(caps.Voltage18);
        Assert.False(caps.SystemBus64Bit);
        Assert.False(caps.AsyncInterrupt);
        Assert.Equal(SdhciSlotType.Removable, caps.SlotType);
        Assert.False(caps.Sdr50);
        Assert.False(caps.Sdr104);
        Assert.False(caps.Ddr50);
        Assert.Null(caps.RetuningPeriodSeconds);
    }

    [Fact]
    public void Base_clock_field_is_8_bits_from_spec_3_00_and_6_bits_before()
    {
        const ulong caps = 0xC8UL << 8; // 200 MHz written into bits 15:8

        Assert.Equal(200, new SdhciCapabilities(caps, SdhciSpecVersion.Version300).BaseClockMHz);
        Assert.Equal(0x08, new SdhciCapabilities(caps, SdhciSpecVersion.Version200).BaseClockMHz);
    }

    [Fact]
    public void Timeout_clock_unit_clear_means_kHz_and_clock_multiplier_field_is_one_less_than_the_multiplier()
    {
        var caps = new SdhciCapabilities((0x03UL << 48) | 0x21, SdhciSpecVersion.Version300);

        Assert.Equal(33_000, caps.TimeoutClockHz);
        Assert.Equal(3, caps.ClockMultiplierField);
        Assert.Equal(4, caps.ClockMultiplier);
    }

    [Fact]
    public void Decoded_text_names_the_Zcu102_capabilities_with_their_units()
    {
        var text = SdhciDump.FormatDecoded(SdhciDump.Read(FakeSdhciController.Zcu102()));
        var lines = text.Split('\n');

        Assert.Contains("SD Host Controller: specification 3.00, vendor version 0x24, register window 0x1000 bytes", lines);
        Assert.Contains("0x040 Capabilities (64-bit) = 0x0000280737ec6481", lines);
        AssertField(lines, "15:8", "Base Clock Frequency For SD Clock", "100 MHz");
        AssertField(lines, "5:0", "Timeout Clock Frequency", "1 MHz");
        AssertField(lines, "17:16", "Max Block Length", "512 bytes");
        AssertField(lines, "19", "ADMA2 Support", "yes");
        AssertField(lines, "22", "SDMA Support", "yes");
        AssertField(lines, "24", "Voltage Support 3.3V", "yes");
        AssertField(lines, "25", "Voltage Support 3.0V", "yes");
        AssertField(lines, "26", "Voltage Support 1.8V", "yes");
        AssertField(lines, "28", "64-bit System Bus Support", "yes");
        AssertField(lines, "31:30", "Slot Type", "removable card slot");
        AssertField(lines, "43:40", "Timer Count For Re-Tuning", "8 (128 s)");
        AssertField(lines, "7:0", "Specification Version Number", "3.00");
        AssertField(lines, "15:8", "Vendor Version Number", "36 (0x24)");
    }

    internal static void AssertField(string[] lines, string bits, string name, string meaning)
    {
        var expected = $"      {bits,-6} {name,-45} {meaning}";
        Assert.True(lines.Contains(expected), $"No line\n{expected}\nin\n{string.Join('\n', lines)}");
    }
}
