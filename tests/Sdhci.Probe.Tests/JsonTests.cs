using System.Text.Json;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

public class JsonTests
{
    [Fact]
    public void Json_round_trip_gives_back_every_register_and_field()
    {
        var document = SdhciDump.Decode(SdhciDump.Read(KernelDumpTests.BusyZcu102(), SdhciDumpOptions.Arasan));

        var json = SdhciDump.ToJson(document);
        var back = SdhciDump.FromJson(json);

        Assert.Equal(document.SpecVersion, back.SpecVersion);
        Assert.Equal(document.VendorVersion, back.VendorVersion);
        Assert.Equal(document.RegionLength, back.RegionLength);
        Assert.Equal(document.Health, back.Health);
        Assert.Equal(document.Registers.Count, back.Registers.Count);
        foreach (var (original, read) in document.Registers.Zip(back.Registers))
        {
            Assert.Equal(original with { Fields = [] }, read with { Fields = [] });
            Assert.Equal(original.Fields, read.Fields);
        }

        Assert.Equal(json, SdhciDump.ToJson(back));
    }

    [Fact]
    public void Json_holds_offset_width_raw_value_and_decoded_fields_by_name()
    {
        var document = SdhciDump.Decode(SdhciDump.Read(KernelDumpTests.BusyZcu102(), SdhciDumpOptions.Arasan));

        using var json = JsonDocument.Parse(SdhciDump.ToJson(document));

        var root = json.RootElement;
        Assert.Equal("3.00", root.GetProperty("specVersion").GetString());
        Assert.Equal(4096, root.GetProperty("regionLength").GetInt32());
        var registers = root.GetProperty("registers").EnumerateArray().ToList();

        var caps = registers.Single(r => r.GetProperty("offset").GetInt32() == 0x40);
        Assert.Equal(8, caps.GetProperty("width").GetInt32());
        Assert.Equal(0x280737ec6481UL, caps.GetProperty("value").GetUInt64());
        Assert.Equal("0x0000280737ec6481", caps.GetProperty("hex").GetString());
        Assert.Equal("ReadOnly", caps.GetProperty("access").GetString());
        var baseClock = caps.GetProperty("fields").EnumerateArray()
            .Single(f => f.GetProperty("name").GetString() == "Base Clock Frequency For SD Clock");
        Assert.Equal(8, baseClock.GetProperty("shift").GetInt32());
        Assert.Equal(8, baseClock.GetProperty("width").GetInt32());
        Assert.Equal(100UL, baseClock.GetProperty("value").GetUInt64());
        Assert.Equal("100 MHz", baseClock.GetProperty("meaning").GetString());

        var vendor = registers.Single(r => r.GetProperty("offset").GetInt32() == 0x78);
        Assert.Equal("ArasanVendor", vendor.GetProperty("block").GetString());

        var dataPort = registers.Single(r => r.GetProperty("offset").GetInt32() == 0x20);
        Assert.Equal(JsonValueKind.Null, dataPort.GetProperty("value").ValueKind);
        Assert.Equal("DataPort", dataPort.GetProperty("access").GetString());
    }

    [Fact]
    public void Json_that_is_not_a_document_is_refused()
    {
        Assert.Throws<JsonException>(() => SdhciDump.FromJson("null"));
        Assert.ThrowsAny<JsonException>(() => SdhciDump.FromJson("{\"registers\": 5}"));
    }
}
