using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>The CID, CSD and SCR decoders, checked against what Linux reads from QEMU's card and against the specification's formulas.</summary>
public class CardRegisterTests
{
    [Fact]
    public void R2_response_registers_are_shifted_back_into_the_cards_bit_order_like_sdhci_c_does()
    {
        // What QEMU's sdhci puts in 0x10..0x1C for the CID: bytes 0..14, CRC dropped.
        var response = new SdResponse(SdResponseType.R2, 0xbeef0062, 0x2101dead, 0x51454d55, 0x00aa5859);

        var bytes = response.GetLong();

        Assert.Equal(Convert.FromHexString("aa585951454d552101deadbeef006200"), bytes);
        Assert.Equal("R2 aa585951454d552101deadbeef006200", response.ToString());
    }

    [Fact]
    public void Short_responses_are_response_register_0()
    {
        var response = new SdResponse(SdResponseType.R7, 0x1AA, 0, 0, 0);

        Assert.Equal(0x1AAu, response.Value);
        Assert.Equal("R7 0x000001aa", response.ToString());
        Assert.Null(response.AutoCommandResponse);
    }

    [Fact]
    public void CID_from_Linuxs_sysfs_of_the_rig_decodes_to_QEMUs_values()
    {
        var cid = Cid.Parse(Convert.FromHexString("aa585951454d552101deadbeef006200"));

        Assert.Equal((byte)0xaa, cid.ManufacturerId);
        Assert.Equal("XY", cid.OemId);
        Assert.Equal("QEMU!", cid.ProductName);
        Assert.Equal((byte)0x01, cid.Revision);
        Assert.Equal(0xdeadbeefu, cid.SerialNumber);
        Assert.Equal((2006, 2), (cid.ManufacturingYear, cid.ManufacturingMonth));
    }

    [Fact]
    public void CID_replaces_unprintable_name_bytes()
    {
        var raw = Convert.FromHexString("03534453433332478000000000001000");
        raw[5] = 0x07;

        var cid = Cid.Parse(raw);

        Assert.Equal("SC?2G", cid.ProductName);
        Assert.Equal(2001, cid.ManufacturingYear);
    }

    [Fact]
    public void CSD_version_1_capacity_follows_C_SIZE_C_SIZE_MULT_and_READ_BL_LEN()
    {
        var csd = Csd.Parse(Convert.FromHexString("002600325f59e03fffffdfff92600000"));

        Assert.Equal(0, csd.Structure);
        Assert.Equal((byte)0x26, csd.Taac);
        Assert.Equal((ushort)0x5f5, csd.CommandClasses);
        Assert.True(csd.ReadBlockPartial);
        Assert.Equal(67_108_864, csd.CapacityBytes);                       // (255 + 1) x 2^(7 + 2) x 2^9
        Assert.Equal(9, csd.WriteBlockLengthExponent);
        Assert.True(csd.WriteProtectGroupEnable);
        Assert.False(csd.PermanentWriteProtect);
        Assert.Equal("CSD 1.0: 67108864 bytes (131072 blocks of 512), read blocks up to 512 bytes, up to 25 MHz (TRAN_SPEED 0x32)", csd.ToString());
    }

    [Fact]
    public void CSD_version_2_capacity_is_C_SIZE_plus_one_times_512_KiB()
    {
        // QEMU's SDHC CSD for a 4 GiB image: C_SIZE 0x1fff.
        var csd = Csd.Parse(Convert.FromHexString("400e00325b5900001fff7f800a400000"));

        Assert.Equal("2.0", csd.Version);
        Assert.Equal(0x1fffu, csd.DeviceSize);
        Assert.Equal(4L * 1024 * 1024 * 1024, csd.CapacityBytes);
        Assert.Equal(8_388_608, csd.BlockCount);
    }

    [Theory]
    [InlineData(0x32, 25_000_000)]
    [InlineData(0x5a, 50_000_000)]
    [InlineData(0x0b, 100_000_000)]
    [InlineData(0x2b, 200_000_000)]
    [InlineData(0x48, 400_000)]
    [InlineData(0x07, 0)]
    public void TRAN_SPEED_decodes_time_value_times_rate_unit(int tranSpeed, long hz)
    {
        var raw = Convert.FromHexString("002600325f59e03fffffdfff92600000");
        raw[3] = (byte)tranSpeed;

        Assert.Equal(hz, Csd.Parse(raw).MaxTransferRateHz);
    }

    [Theory]
    [InlineData("0225000000000000", "2.00", true, true, false)]
    [InlineData("0235800000000000", "3.0x", true, true, false)]
    [InlineData("02b5840200000000", "4.xx", true, true, true)]
    [InlineData("02b5804200000000", "5.xx", true, true, true)]
    [InlineData("0101000000000000", "1.10", true, false, false)]
    public void SCR_gives_spec_version_bus_widths_and_CMD23(string hex, string version, bool oneBit, bool fourBit, bool cmd23)
    {
        var scr = Scr.Parse(Convert.FromHexString(hex));

        Assert.Equal(version, scr.SpecVersion);
        Assert.Equal(oneBit, scr.Supports1BitBus);
        Assert.Equal(fourBit, scr.Supports4BitBus);
        Assert.Equal(cmd23, scr.SupportsCmd23);
        Assert.Equal(hex, scr.RawHex);
    }

    [Fact]
    public void Registers_of_the_wrong_length_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Cid.Parse(new byte[15]));
        Assert.Throws<ArgumentException>(() => Csd.Parse(new byte[17]));
        Assert.Throws<ArgumentException>(() => Scr.Parse(new byte[16]));
    }

    [Fact]
    public void Card_status_names_its_error_bits_and_state()
    {
        const uint status = 0xC000_0900; // out of range, address error, transfer state, ready for data

        Assert.Equal("AddressError, OutOfRange", SdCardStatusInfo.DescribeErrors(status));
        Assert.Equal(SdCardState.Transfer, SdCardStatusInfo.State(status));
        Assert.Equal("none", SdCardStatusInfo.DescribeErrors(0x0000_0920));
    }

    [Theory]
    [InlineData(17, false, "CMD17 (READ_SINGLE_BLOCK)")]
    [InlineData(41, true, "ACMD41 (SD_SEND_OP_COND)")]
    [InlineData(6, true, "ACMD6 (SET_BUS_WIDTH)")]
    [InlineData(6, false, "CMD6 (SWITCH_FUNC)")]
    [InlineData(60, false, "CMD60")]
    public void Commands_are_named_for_messages(int index, bool application, string expected)
    {
        Assert.Equal(expected, SdCommandNames.Describe(index, application));
    }
}
