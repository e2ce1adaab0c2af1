using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>Reading the buffer data port (0x20) pops card data, so nothing in a dump may touch it.</summary>
public class DataPortTests
{
    [Fact]
    public void Full_dump_with_every_option_never_reads_the_data_port_or_write_only_registers()
    {
        var fake = KernelDumpTests.BusyZcu102();

        var snapshot = SdhciDump.Read(fake, new SdhciDumpOptions { ArasanVendorRegisters = true, ArasanCqe = true });
        var text = SdhciDump.FormatKernel(snapshot) + SdhciDump.FormatDecoded(snapshot) + SdhciDump.ToJson(SdhciDump.Decode(snapshot));

        Assert.NotEmpty(fake.Reads);
        Assert.DoesNotContain(fake.Reads, r => r.Offset < 0x24 && r.Offset + r.Width > 0x20);
        Assert.DoesNotContain(fake.Reads, r => r.Offset is >= 0x50 and < 0x54);
        Assert.DoesNotContain("deadbeef", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("abcd", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Reading_the_data_port_through_the_model_is_refused_before_the_bus_is_touched()
    {
        var fake = FakeSdhciController.Zcu102();

        var error = Assert.Throws<InvalidOperationException>(() => fake.Read(SdhciRegisters.BufferDataPort));

        Assert.Contains("consumes card data", error.Message, StringComparison.Ordinal);
        Assert.Empty(fake.Reads);
    }

    [Fact]
    public void Every_register_is_read_once_with_its_own_width()
    {
        var fake = FakeSdhciController.Zcu102();

        SdhciDump.Read(fake);

        Assert.Equal(fake.Reads.Count, fake.Reads.Distinct().Count());
        Assert.Contains((0x28, 1), fake.Reads);   // Host Control 1: a byte
        Assert.Contains((0x2C, 2), fake.Reads);   // Clock Control: 16 bits
        Assert.Contains((0x24, 4), fake.Reads);   // Present State: 32 bits
        Assert.Contains((0x40, 4), fake.Reads);   // Capabilities: two 32-bit halves, never one 64-bit access
        Assert.Contains((0x44, 4), fake.Reads);
        Assert.Contains((0xFE, 2), fake.Reads);
        Assert.All(fake.Reads, r => Assert.True(r.Width <= 4));
    }

    [Fact]
    public void Arasan_dump_on_QEMUs_0x100_backed_window_stays_inside_it_and_still_reads_the_vendor_register()
    {
        // QEMU's SDHCI model backs only 0x100 bytes of the ZCU102's 0x1000-byte window: treat a read above as a fault.
        var fake = KernelDumpTests.BusyZcu102(backedLength: 0x100);

        var snapshot = SdhciDump.Read(fake, SdhciDumpOptions.Arasan);

        Assert.All(fake.Reads, r => Assert.True(r.Offset + r.Width <= 0x100));
        Assert.Contains((0x78, 4), fake.Reads);
        Assert.False(snapshot.Contains(ArasanRegisters.CqVersion));
    }

    [Fact]
    public void Command_queue_engine_registers_beyond_a_small_window_are_skipped_not_read()
    {
        var fake = FakeSdhciController.SdhciPci(); // 0x100-byte BAR

        var snapshot = SdhciDump.Read(fake, new SdhciDumpOptions { ArasanCqe = true });

        Assert.False(snapshot.Contains(ArasanRegisters.CqVersion));
        Assert.DoesNotContain("CQHCI", SdhciDump.FormatKernel(snapshot), StringComparison.Ordinal);
    }

    [Fact]
    public void Window_smaller_than_the_standard_block_is_refused()
    {
        Assert.Throws<ArgumentException>(() => SdhciDump.Read(new FakeSdhciController(0x80)));
    }
}
