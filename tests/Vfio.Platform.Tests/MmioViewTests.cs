using Vfio.Platform.Mmio;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The single-compare check of <see cref="MmioRegion"/> and <see cref="MmioView"/> against the
/// plain definition (in bounds and aligned), over every offset near the edges of odd-sized regions, and
/// the typed register helpers.</summary>
public sealed class MmioViewTests
{
    public static TheoryData<long, bool> Sizes => new()
    {
        { 1, true }, { 2, true }, { 7, true }, { 8, true }, { 0x1003, true }, { 0x1000, true }, { 0x1003, false }, { 9, false },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void The_fast_check_accepts_exactly_the_aligned_in_bounds_offsets(long length, bool mapped)
    {
        using var region = MmioRegion.CreateShared(length, mapped);
        var offsets = new List<long> { long.MinValue, long.MinValue + 1, long.MaxValue, long.MaxValue - 7, -8, -4, -2, -1 };
        for (var o = 0L; o < Math.Min(length, 24) + 16; o++)
        {
            offsets.Add(o);
        }

        for (var o = Math.Max(0, length - 24); o < length + 16; o++)
        {
            offsets.Add(o);
        }

        foreach (var width in new[] { 1, 2, 4, 8 })
        {
            foreach (var offset in offsets)
            {
                var valid = offset >= 0 && offset <= length - width && offset % width == 0;
                Assert.Equal(valid, Succeeds(() => ReadRegion(region, offset, width)));
                Assert.Equal(valid, Succeeds(() => ReadView(region, offset, width)));
                Assert.Equal(valid, Succeeds(() => WriteView(region, offset, width)));
            }
        }
    }

    [Fact]
    public void A_view_reads_and_writes_the_same_memory_as_its_region()
    {
        using var region = MmioRegion.CreateShared(0x100);
        var view = region.View();
        view.Write8(0x01, 0x5A);
        view.Write16(0x02, 0x1234);
        view.Write32(0x04, 0xCAFEBABE);
        view.Write64(0x08, 0x1122_3344_5566_7788);

        Assert.Equal(0x5A, region.Read8(0x01));
        Assert.Equal(0x1234, region.Read16(0x02));
        Assert.Equal(0xCAFEBABEu, region.Read32(0x04));
        Assert.Equal(0x1122_3344_5566_7788UL, region.Read64(0x08));
        Assert.Equal(0x5566_7788u, view.Read32(0x08));
        Assert.Equal(0x1122_3344_5566_7788UL, view.Read64(0x08));
    }

    [Fact]
    public void A_view_of_an_unmapped_region_goes_through_pread_and_pwrite()
    {
        using var region = MmioRegion.CreateShared(0x100, mapped: false);
        var view = region.View();
        view.Write32(0x10, 0xA5A5_0001);

        Assert.Equal(0xA5A5_0001u, view.Read32(0x10));
        Assert.Equal(0xA5A5_0001u, region.Read32(0x10));
    }

    [Fact]
    public void A_view_of_a_disposed_region_cannot_be_taken()
    {
        var region = MmioRegion.CreateShared(0x100);
        region.Dispose();

        Assert.Throws<ObjectDisposedException>(() => region.View());
        Assert.Throws<ObjectDisposedException>(() => region.Read8(0));
        Assert.Throws<ObjectDisposedException>(() => region.Write64(0, 0));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Repeated_accesses_hit_one_port_in_order(bool mapped)
    {
        using var region = MmioRegion.CreateShared(0x40, mapped);
        region.WriteRepeated32(0x20, [1, 2, 3, 0xDEAD_BEEF]);
        Assert.Equal(0xDEAD_BEEFu, region.Read32(0x20)); // the last write wins: it is one address
        Assert.Equal(0u, region.Read32(0x24));

        var values = new uint[5];
        region.ReadRepeated32(0x20, values);
        Assert.All(values, v => Assert.Equal(0xDEAD_BEEFu, v));

        Assert.Throws<ArgumentOutOfRangeException>(() => region.ReadRepeated32(0x22, values));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.WriteRepeated32(0x40, [1]));
    }

    [Fact]
    public void Named_registers_and_bit_fields()
    {
        var status = TestSdhci.Status;
        var version = TestSdhci.Version;
        var command = TestSdhci.SoftwareReset;
        var caps = TestSdhci.Capabilities64;
        var specVersion = new BitField(0, 8);
        var vendorVersion = new BitField(8, 8);
        using var region = MmioRegion.CreateShared(0x100);

        region.Write(version, 0x2402);
        region.Write(status, 0x0000_8001);
        region.Write(command, 1);
        region.Write64(caps.Offset, 0x0000_2807_37EC_6481); // read-only: the compiler refuses region.Write(caps, ...)

        Assert.Equal(2UL, specVersion.Get(region.Read(version)));
        Assert.Equal(0x24UL, vendorVersion.Get(region.Read(version)));
        Assert.Equal(0x8001u, region.Read(status));
        Assert.Equal(1, region.Read(command));
        Assert.Equal(0x0000_2807_37EC_6481UL, region.Read(caps));
        Assert.Equal(0x8003u, region.Modify(status, clear: 0, set: 2));
        Assert.Equal(0x0003u, region.Modify(status, clear: 0x8000, set: 0));
        Assert.Equal(0x0000_FF00UL, vendorVersion.Mask);
        Assert.Equal(0x1234_7F02UL, vendorVersion.With(0x1234_5602, 0x7F));
        Assert.Equal(ulong.MaxValue, new BitField(0, 64).Mask);
        Assert.Equal(0x8000_0000_0000_0000UL, new BitField(63, 1).Mask);
        Assert.Throws<ArgumentOutOfRangeException>(() => vendorVersion.With(0, 0x100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitField(60, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitField(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitField(0, 0));
    }

    private static bool Succeeds(Action access)
    {
        try
        {
            access();
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static void ReadRegion(MmioRegion region, long offset, int width)
    {
        switch (width)
        {
            case 1: region.Read8(offset); break;
            case 2: region.Read16(offset); break;
            case 4: region.Read32(offset); break;
            default: region.Read64(offset); break;
        }
    }

    private static void ReadView(MmioRegion region, long offset, int width)
    {
        var view = region.View();
        switch (width)
        {
            case 1: view.Read8(offset); break;
            case 2: view.Read16(offset); break;
            case 4: view.Read32(offset); break;
            default: view.Read64(offset); break;
        }
    }

    private static void WriteView(MmioRegion region, long offset, int width)
    {
        var view = region.View();
        switch (width)
        {
            case 1: view.Write8(offset, 1); break;
            case 2: view.Write16(offset, 1); break;
            case 4: view.Write32(offset, 1); break;
            default: view.Write64(offset, 1); break;
        }
    }
}
