using Sdhci.Probe.Sdhci;
using Xunit;
using static Sdhci.Probe.Tests.CapabilitiesTests;

namespace Sdhci.Probe.Tests;

public class DecodeTests
{
    private static string[] DecodedBusyZcu102() =>
        SdhciDump.FormatDecoded(SdhciDump.Read(KernelDumpTests.BusyZcu102(), SdhciDumpOptions.Arasan)).Split('\n');

    [Fact]
    public void Present_state_names_card_and_line_bits()
    {
        var lines = DecodedBusyZcu102();

        Assert.Contains("0x024 Present State (32-bit) = 0x01ff0206", lines);
        AssertField(lines, "0", "Command Inhibit (CMD)", "no");
        AssertField(lines, "1", "Command Inhibit (DAT)", "yes");
        AssertField(lines, "2", "DAT Line Active", "yes");
        AssertField(lines, "9", "Read Transfer Active", "yes");
        AssertField(lines, "16", "Card Inserted", "yes");
        AssertField(lines, "17", "Card State Stable", "yes");
        AssertField(lines, "19", "Write Protect Switch Pin Level", "write enabled");
        AssertField(lines, "23:20", "DAT[3:0] Line Signal Level", "DAT3..0 = 1111");
        AssertField(lines, "24", "CMD Line Signal Level", "high");
    }

    [Fact]
    public void Host_control_power_and_command_fields_are_named()
    {
        var lines = DecodedBusyZcu102();

        AssertField(lines, "1", "Data Transfer Width", "4-bit");
        AssertField(lines, "4:3", "DMA Select", "32-bit ADMA2");
        AssertField(lines, "0", "SD Bus Power", "on");
        AssertField(lines, "3:1", "SD Bus Voltage Select", "3.3 V");
        AssertField(lines, "13:8", "Command Index", "CMD18");
        AssertField(lines, "1:0", "Response Type Select", "48-bit (R1, R3, R6, R7)");
        AssertField(lines, "3:2", "Auto CMD Enable", "Auto CMD12");
        AssertField(lines, "4", "Data Transfer Direction Select", "read (card to host)");
        AssertField(lines, "11:0", "Transfer Block Size", "512 bytes");
        AssertField(lines, "14:12", "SDMA Buffer Boundary", "512 KiB");
        AssertField(lines, "2:0", "UHS Mode Select", "SDR25");
        AssertField(lines, "3:0", "Data Timeout Counter Value", "TMCLK x 2^27 = 134.218 s at 1 MHz");
        AssertField(lines, "0", "Enhanced Strobe (HS400ES)", "yes");
    }

    [Theory]
    [InlineData(0x00, "TMCLK x 2^13 = 0.158 ms at 52 MHz")]
    [InlineData(0x0e, "TMCLK x 2^27 = 2.581 s at 52 MHz")]
    [InlineData(0x0f, "reserved (15)")]
    public void Data_timeout_is_given_as_a_time_from_the_capabilities_timeout_clock(byte counter, string meaning)
    {
        var fake = FakeSdhciController.SdhciPci();
        fake.Set8(0x2E, counter);

        var lines = SdhciDump.FormatDecoded(SdhciDump.Read(fake)).Split('\n');

        AssertField(lines, "3:0", "Data Timeout Counter Value", meaning);
    }

    [Fact]
    public void Interrupt_registers_list_the_set_bits_by_name()
    {
        var lines = DecodedBusyZcu102().ToList();

        var status = lines.IndexOf("0x030 Normal Interrupt Status (16-bit) = 0x8001");
        Assert.Equal("      set: CommandComplete, ErrorInterrupt", lines[status + 1]);
        var error = lines.IndexOf("0x032 Error Interrupt Status (16-bit) = 0x0001");
        Assert.Equal("      set: CommandTimeoutError", lines[error + 1]);
        var reset = lines.IndexOf("0x02f Software Reset (8-bit) = 0x00");
        Assert.True(reset > 0);
    }

    [Fact]
    public void Registers_that_must_not_be_read_say_why()
    {
        var lines = DecodedBusyZcu102();

        Assert.Contains("0x020 Buffer Data Port (32-bit): not read: a read pops data from the card's FIFO", lines);
        Assert.Contains("0x050 Force Event For Auto CMD Error Status (16-bit): not read: write-only", lines);
    }

    [Fact]
    public void Decoded_text_lists_registers_in_spec_order_with_the_Arasan_vendor_register_after_them()
    {
        var offsets = DecodedBusyZcu102()
            .Where(l => l.StartsWith("0x", StringComparison.Ordinal))
            .Select(l => Convert.ToInt32(l[..5], 16))
            .ToList();

        Assert.Equal(SdhciRegisters.All.Select(r => r.Offset).Append(0x78), offsets);
    }
}
