using Vfio.Platform.Mmio;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>MmioRegion over real shared memory (a memfd): the mapped path and the pread/pwrite path.</summary>
public sealed class MmioRegionTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Every_width_reads_back_what_was_written(bool mapped)
    {
        using var region = MmioRegion.CreateShared(0x1000, mapped);
        Assert.Equal(mapped, region.IsMapped);

        region.Write8(0x11, 0xA5);
        region.Write16(0x22, 0xBEEF);
        region.Write32(0x44, 0xDEADBEEF);
        region.Write64(0x88, 0x0123_4567_89AB_CDEF);
        region.Write32(0xFFC, 0xCAFEF00D);

        Assert.Equal(0xA5, region.Read8(0x11));
        Assert.Equal(0xBEEF, region.Read16(0x22));
        Assert.Equal(0xDEADBEEFu, region.Read32(0x44));
        Assert.Equal(0x0123_4567_89AB_CDEFUL, region.Read64(0x88));
        Assert.Equal(0xCAFEF00Du, region.Read32(0xFFC));
        // Little-endian: the low half of the 64-bit value is at the lower address.
        Assert.Equal(0x89AB_CDEFu, region.Read32(0x88));
        Assert.Equal(0xEF, region.Read8(0x88));
    }

    [Theory]
    [InlineData(true, 0x1000L, 4)]
    [InlineData(true, 0xFFEL, 4)]
    [InlineData(true, -4L, 4)]
    [InlineData(true, long.MinValue, 8)]
    [InlineData(true, 0x1000L, 1)]
    [InlineData(false, 0x1000L, 4)]
    [InlineData(true, 0xFF9L, 8)]
    public void An_access_outside_the_region_throws_and_names_it(bool mapped, long offset, int width)
    {
        using var region = MmioRegion.CreateShared(0x1000, mapped);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Access(region, offset, width));

        Assert.Equal("offset", error.ParamName);
        Assert.Equal(offset, error.ActualValue);
        Assert.Contains(region.Name, error.Message, StringComparison.Ordinal);
        Assert.Contains("outside the region of 0x1000 bytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x2L, 4)]
    [InlineData(0x1L, 2)]
    [InlineData(0x4L, 8)]
    public void A_misaligned_access_throws(long offset, int width)
    {
        using var region = MmioRegion.CreateShared(0x1000);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Access(region, offset, width));

        Assert.Equal("offset", error.ParamName);
        Assert.Contains(region.Name, error.Message, StringComparison.Ordinal);
        Assert.Contains("not aligned", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_region_smaller_than_the_access_rejects_it()
    {
        using var region = MmioRegion.CreateShared(2);

        Assert.Throws<ArgumentOutOfRangeException>(() => region.Read32(0));
        Assert.Equal(0, region.Read16(0));
    }

    [Fact]
    public void Access_after_dispose_throws_ObjectDisposedException()
    {
        var region = MmioRegion.CreateShared(0x1000);
        region.Dispose();

        Assert.Throws<ObjectDisposedException>(() => region.Read32(0));
        Assert.Throws<ObjectDisposedException>(() => region.Write8(0, 1));
        region.Dispose();
    }

    [Fact]
    public void Reads_allocate_nothing()
    {
        using var region = MmioRegion.CreateShared(0x1000);
        region.Write32(0x40, 7);
        ulong sum = 0;
        sum += region.Read32(0x40); // warm up (tiering, statics)

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            sum += region.Read32(0x40) + region.Read8(0x40) + region.Read16(0x40) + region.Read64(0x40);
            region.Write32(0x44, (uint)i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotEqual(0UL, sum);
    }

    private static void Access(MmioRegion region, long offset, int width)
    {
        switch (width)
        {
            case 1: region.Read8(offset); break;
            case 2: region.Read16(offset); break;
            case 4: region.Read32(offset); break;
            default: region.Read64(offset); break;
        }
    }
}
