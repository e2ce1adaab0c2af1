using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>The engine's controller set-up, its write gate, and transfer descriptions.</summary>
public class SdhciHostTests
{
    [Fact]
    public void Writes_are_refused_by_the_card_without_allow_write_before_any_command()
    {
        var rig = SdRig.Initialized();
        var before = rig.Fake.Commands.Count;

        var error = Assert.Throws<InvalidOperationException>(() => rig.Card.WriteBlocks(0, new byte[512]));

        Assert.Contains("--allow-write", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, rig.Fake.Commands.Count);
        Assert.Equal(CardImage.Block(0), rig.Fake.Card.ReadImageBlock(0));
    }

    [Fact]
    public void Writes_are_refused_by_the_engine_too()
    {
        var rig = SdRig.Initialized();
        var before = rig.Fake.Log.Count;
        var transfer = new SdhciDataTransfer(SdhciTransferDirection.Write, 512, 1, new byte[512]);

        Assert.Throws<InvalidOperationException>(() => rig.Host.SendCommand(24, 0, SdResponseType.R1, transfer));
        Assert.Equal(before, rig.Fake.Log.Count);
    }

    [Theory]
    [InlineData(SdhciTransferMode.Pio)]
    [InlineData(SdhciTransferMode.Sdma)]
    [InlineData(SdhciTransferMode.Adma2)]
    public void With_allow_write_blocks_written_read_back(SdhciTransferMode mode)
    {
        var rig = SdRig.Initialized(hostOptions: SdRig.FastHost(allowWrite: true));
        var dma = new FakeDmaMemory(0x8000_0000, 1 << 16);
        rig.Fake.Attach(dma);
        var data = new byte[3 * 512];
        new Random(5).NextBytes(data);

        rig.Card.WriteBlocks(200, data, mode, mode == SdhciTransferMode.Pio ? null : dma);

        Assert.Equal(data, rig.Card.ReadBlocks(200, 3));
        Assert.Equal(CardImage.Block(199), rig.Card.ReadBlocks(199, 1));
        Assert.Contains(rig.Fake.Commands, c => c.Index == 25 && c.Argument == 200 * 512);
        Assert.Equal(0, rig.Fake.DataPortViolations);
    }

    [Fact]
    public void Bus_width_8_needs_the_capability()
    {
        var rig = new SdRig(FakeSdController.SdhciPci());                 // no 8-bit support
        rig.Host.Initialize();

        Assert.Equal(SdhciError.NotSupported, Assert.Throws<SdhciException>(() => rig.Host.SetBusWidth(8)).Error);
        Assert.Throws<ArgumentOutOfRangeException>(() => rig.Host.SetBusWidth(2));
        rig.Host.SetBusWidth(4);
        Assert.Equal(0x02, rig.Fake.HostControl1 & 0x22);
    }

    [Fact]
    public void Reset_all_returns_the_engine_to_its_power_on_view()
    {
        var rig = SdRig.Initialized();

        rig.Host.Reset(SdhciReset.All);

        Assert.Equal(0, rig.Host.ClockHz);
        Assert.Equal(1, rig.Host.BusWidth);
        Assert.Equal(SdhciBusVoltage.Off, rig.Host.Voltage);
        Assert.Equal(0, rig.Fake.PowerControl);
        Assert.Equal(SdhciReset.All, rig.Fake.Resets[^1]);
    }

    [Fact]
    public void Power_off_stops_the_clock_and_the_supply()
    {
        var rig = SdRig.Initialized();

        rig.Host.PowerOff();

        Assert.Equal(0, rig.Fake.ClockControl);
        Assert.Equal(0, rig.Fake.PowerControl);
        // Without an SD clock the controller does not even start the command (QEMU's sdhci_can_issue_command).
        Assert.Equal(SdhciError.Timeout, Assert.Throws<SdhciException>(() => rig.Host.SendCommand(0, 0, SdResponseType.None)).Error);
    }

    [Theory]
    [InlineData(SdhciTransferMode.Pio, 4096, 0, 0)]
    [InlineData(SdhciTransferMode.Sdma, 4096, 0, 4096)]
    [InlineData(SdhciTransferMode.Adma2, 4096, 4096, 8192)]
    [InlineData(SdhciTransferMode.Adma2, 1 << 20, 4096, (1 << 20) + 4096)]      // 32 descriptors, 256 bytes of table
    [InlineData(SdhciTransferMode.Adma2, (16 << 20) + 512, 8192, (16 << 20) + 512 + 8192)]    // 513 descriptors: two pages of table
    public void DMA_layout_puts_the_descriptor_table_first_on_its_own_pages(SdhciTransferMode mode, int length, int offset, int required)
    {
        Assert.Equal(offset, SdhciHost.DmaDataOffset(mode, length));
        Assert.Equal(required, SdhciHost.RequiredDmaLength(mode, length));
    }

    [Fact]
    public void Transfers_are_checked_when_described()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SdhciDataTransfer(SdhciTransferDirection.Read, 6, 1, new byte[6]));       // PIO: words
        Assert.Throws<ArgumentOutOfRangeException>(() => new SdhciDataTransfer(SdhciTransferDirection.Read, 512, 2, new byte[512]));   // buffer too small
        Assert.Throws<ArgumentOutOfRangeException>(() => new SdhciDataTransfer(SdhciTransferDirection.Read, 512, 65536, new byte[512]));
        Assert.Throws<ArgumentException>(() => new SdhciDataTransfer(SdhciTransferDirection.Read, 512, 1, new byte[512], SdhciTransferMode.Sdma));
        Assert.Throws<ArgumentException>(() => new SdhciDataTransfer(SdhciTransferDirection.Read, 512, 1, new byte[512], SdhciTransferMode.Adma2, new FakeDmaMemory(0, 4096)));
    }

    [Fact]
    public void DMA_is_refused_on_a_controller_without_it()
    {
        var fake = new FakeSdController(0x01000000 | (100 << 8), 0x0002, 0x100);   // 3.3 V, 100 MHz, no SDMA, no ADMA2
        var rig = new SdRig(fake);
        rig.Card.Initialize();
        var dma = new FakeDmaMemory(0x8000_0000, 1 << 16);
        fake.Attach(dma);

        var sdma = Assert.Throws<SdhciException>(() => rig.Card.ReadBlocks(0, 1, SdhciTransferMode.Sdma, dma));
        var adma = Assert.Throws<SdhciException>(() => rig.Card.ReadBlocks(0, 1, SdhciTransferMode.Adma2, dma));

        Assert.Equal(SdhciError.NotSupported, sdma.Error);
        Assert.Contains("no SDMA", sdma.Message, StringComparison.Ordinal);
        Assert.Contains("no ADMA2", adma.Message, StringComparison.Ordinal);
        Assert.Equal(CardImage.Block(0), rig.Card.ReadBlocks(0, 1));              // PIO still works
    }
}
