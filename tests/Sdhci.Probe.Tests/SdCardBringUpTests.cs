using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>The card bring-up against a model of QEMU's SD card: the values below are what Linux reads from
/// /sys/block/mmcblkN/device/{cid,csd,scr} in both guests of the rig.</summary>
public class SdCardBringUpTests
{
    [Fact]
    public void Bring_up_of_QEMUs_card_decodes_its_CID()
    {
        var info = SdRig.Initialized().Card.Info!;

        Assert.Equal("aa585951454d552101deadbeef006200", info.Cid.RawHex);
        Assert.Equal(0xaa, info.Cid.ManufacturerId);
        Assert.Equal("XY", info.Cid.OemId);
        Assert.Equal("QEMU!", info.Cid.ProductName);
        Assert.Equal(0, info.Cid.HardwareRevision);
        Assert.Equal(1, info.Cid.FirmwareRevision);
        Assert.Equal(0xdeadbeefu, info.Cid.SerialNumber);
        Assert.Equal(2006, info.Cid.ManufacturingYear);
        Assert.Equal(2, info.Cid.ManufacturingMonth);
        Assert.Equal("QEMU! rev 0.1, manufacturer 0xaa, OEM \"XY\", serial 0xdeadbeef, made 2006-02", info.Cid.ToString());
    }

    [Fact]
    public void Bring_up_of_QEMUs_64_MiB_card_decodes_a_version_1_CSD_and_byte_addressing()
    {
        var info = SdRig.Initialized().Card.Info!;

        Assert.Equal("002600325f59e03fffffdfff92600000", info.Csd.RawHex);
        Assert.Equal("1.0", info.Csd.Version);
        Assert.Equal(64L * 1024 * 1024, info.CapacityBytes);
        Assert.Equal(131072, info.BlockCount);
        Assert.Equal(255u, info.Csd.DeviceSize);
        Assert.Equal(7, info.Csd.DeviceSizeMultiplier);
        Assert.Equal(512, info.Csd.ReadBlockLength);
        Assert.Equal(0x32, info.Csd.TranSpeed);
        Assert.Equal(25_000_000, info.Csd.MaxTransferRateHz);
        Assert.Equal(SdCardType.StandardCapacity, info.Type);
        Assert.False(info.BlockAddressing);
    }

    [Fact]
    public void Bring_up_decodes_the_SCR_and_switches_card_and_host_to_4_bit_and_High_Speed_at_50_MHz()
    {
        var rig = SdRig.Initialized();
        var info = rig.Card.Info!;

        Assert.Equal("0225000000000000", info.Scr.RawHex);
        Assert.Equal("2.00", info.Scr.SpecVersion);
        Assert.True(info.Scr.Supports1BitBus);
        Assert.True(info.Scr.Supports4BitBus);
        Assert.False(info.Scr.SupportsCmd23);
        Assert.Equal("SDSC (security 1.01)", info.Scr.SecurityText);
        Assert.Equal(4, info.BusWidth);
        Assert.Equal(4, rig.Fake.Card.BusWidth);
        Assert.Equal(0x02, rig.Fake.HostControl1 & 0x22);              // 4-bit, not 8-bit
        Assert.Equal(50_000_000, info.ClockHz);
        Assert.Equal(0x0107, rig.Fake.ClockControl);                     // N = 1 (100 MHz / 2), stable, SD clock on
    }

    [Fact]
    public void Bring_up_gets_QEMUs_RCA_and_a_ready_OCR_without_CCS()
    {
        var info = SdRig.Initialized().Card.Info!;

        Assert.Equal(0x4567, info.Rca);
        Assert.Equal(0x80ff_ff00u, info.Ocr);
    }

    [Fact]
    public void Bring_up_sends_the_identification_sequence_in_order_with_HCS_and_the_3_3_V_window()
    {
        var rig = SdRig.Initialized();

        uint rca = 0x4567_0000;
        (int, uint, bool)[] expected =
        [
            (0, 0, false),
            (8, 0x1AA, false),
            (55, 0, false), (41, 0, true),                       // inquiry: the card's voltage window
            (55, 0, false), (41, 0x4130_0000, true),             // HCS + S18R (the ZCU102 host has 1.8 V and SDR modes) + 3.2-3.4 V, busy
            (55, 0, false), (41, 0x4130_0000, true),             // busy
            (55, 0, false), (41, 0x4130_0000, true),             // ready, S18A clear (QEMU's card): no CMD11
            (2, 0, false),
            (3, 0, false),
            (9, rca, false),
            (7, rca, false),
            (16, 512, false),                                    // standard capacity: set the block length
            (55, rca, false), (51, 0, true),
            (55, rca, false), (6, 2, true),
            (6, 0x00FF_FFF1, false),                             // CMD6 query: High Speed in group 1
            (6, 0x80FF_FFF1, false),                             // CMD6 switch
        ];
        Assert.Equal(expected, rig.Fake.Commands);
        Assert.Equal(SdCardState.Transfer, rig.Fake.Card.State);
    }

    [Fact]
    public void Controller_is_powered_at_3_3_V_with_every_handled_interrupt_enabled()
    {
        var rig = SdRig.Initialized();

        Assert.Equal(0x0F, rig.Fake.PowerControl);                       // 3.3 V (7 << 1) and power
        Assert.Equal((uint)SdhciHost.HandledInterrupts, rig.Fake.Read32(0x34));
        Assert.Equal((uint)SdhciHost.HandledInterrupts, rig.Fake.Read32(0x38));
        Assert.Equal(0x0E, rig.Fake.Read8(0x2E));                        // the longest data timeout
        Assert.Equal(SdhciBusVoltage.V33, rig.Host.Voltage);
        Assert.Equal(0x0030_0000u, rig.Host.HostOcrMask);
    }

    [Fact]
    public void On_x86_sdhci_pci_the_spec_2_00_dividers_give_203_kHz_then_26_MHz_in_High_Speed()
    {
        var rig = new SdRig(FakeSdController.SdhciPci());
        var clocks = new List<ushort>();

        rig.Host.Initialize();
        clocks.Add(rig.Fake.ClockControl);
        var identification = rig.Host.ClockHz;
        var info = rig.Card.Initialize();

        Assert.Equal(52_000_000 / 256, identification);                  // N = 128, a power of two below 400 kHz
        Assert.Equal(0x8007, clocks[0]);
        Assert.Equal(SdBusSpeed.High, info.BusSpeed);
        Assert.Equal(26_000_000, info.ClockHz);                          // 52 MHz would exceed 50: N = 1
        Assert.Equal(0x0107, rig.Fake.ClockControl);
        Assert.Equal("QEMU!", info.Cid.ProductName);
    }

    [Fact]
    public void A_high_capacity_card_reports_CCS_and_a_version_2_CSD()
    {
        var card = new FakeSdCard(capacityBytes: 4L * 1024 * 1024 * 1024, highCapacity: true);
        var rig = new SdRig(FakeSdController.Zcu102(card));

        var info = rig.Card.Initialize();

        Assert.Equal(SdCardType.HighCapacity, info.Type);
        Assert.True(info.BlockAddressing);
        Assert.Equal(0xC0ff_ff00u, info.Ocr);
        Assert.Equal("2.0", info.Csd.Version);
        Assert.Equal(4L * 1024 * 1024 * 1024, info.CapacityBytes);
        Assert.DoesNotContain(rig.Fake.Commands, c => c.Index == 16);    // SDHC blocks are always 512 bytes
    }

    [Fact]
    public void A_version_1_card_that_ignores_CMD8_is_brought_up_without_HCS()
    {
        var rig = new SdRig(FakeSdController.Zcu102(new FakeSdCard { Version1 = true }));

        var info = rig.Card.Initialize();

        Assert.Equal(SdCardType.StandardCapacityV1, info.Type);
        Assert.All(rig.Fake.Card.Acmd41Arguments.Skip(1), argument => Assert.Equal(0x0030_0000u, argument));
        Assert.Equal(FakeSdCard.QemuCid.AsSpan(0, 15).ToArray(), info.Cid.Raw.ToByteArrayBigEndian()[..15]);
    }

    [Fact]
    public void Clock_follows_the_cards_TRAN_SPEED_when_it_is_below_the_option()
    {
        var csd = (byte[])FakeSdCard.QemuCsd64MiB.Clone();
        csd[3] = 0x2A; // 2.0 x 10 Mbit/s = 20 MHz
        var card = new FakeSdCard { Csd = csd };
        var rig = new SdRig(FakeSdController.Zcu102(card), cardOptions: SdRig.FastCard() with { MaxBusSpeed = SdBusSpeed.Default });

        var info = rig.Card.Initialize();

        Assert.Equal(20_000_000, info.Csd.MaxTransferRateHz);
        Assert.True(info.ClockHz <= 20_000_000);
        Assert.Equal(16_666_666, info.ClockHz);                          // 100 MHz / 6
    }

    [Fact]
    public void Four_bit_bus_can_be_declined()
    {
        var rig = new SdRig(cardOptions: SdRig.FastCard() with { FourBitBus = false });

        var info = rig.Card.Initialize();

        Assert.Equal(1, info.BusWidth);
        Assert.Equal(1, rig.Fake.Card.BusWidth);
        Assert.DoesNotContain(rig.Fake.Commands, c => c is { Index: 6, Application: true });
    }
}
