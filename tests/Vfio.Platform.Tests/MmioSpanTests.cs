using Vfio.Native;
using Vfio.Platform.Mmio;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>MmioRegion.Span: registers of one width, bounds checked once when taken, indexed like an array.</summary>
public class MmioSpanTests
{
    [Fact]
    public void A_span_reads_and_writes_the_regions_registers_at_each_width()
    {
        using var region = MmioRegion.CreateShared(0x100);

        var words = region.Span<uint>(0x10, 4);
        for (var i = 0; i < words.Length; i++)
            words[i] = 0xA000_0000u + (uint)i;
        region.Span<ushort>(0x40, 2)[1] = 0xBEEF;
        region.Span<byte>(0x50, 3)[2] = 0x5A;
        region.Span<ulong>(0x60, 1)[0] = 0x1122_3344_5566_7788;

        Assert.Equal(4, words.Length);
        Assert.Equal(0xA000_0002u, region.Read32(0x18));
        Assert.Equal(0xA000_0003u, words[3]);
        Assert.Equal((ushort)0xBEEF, region.Read16(0x42));
        Assert.Equal((byte)0x5A, region.Read8(0x52));
        Assert.Equal(0x1122_3344_5566_7788UL, region.Read64(0x60));
        region.Write32(0x14, 7);
        Assert.Equal(7u, words[1]);                                         // a load each time, not a copy
    }

    [Fact]
    public void Copy_and_slice_see_the_same_registers()
    {
        using var region = MmioRegion.CreateShared(0x40);
        for (var i = 0; i < 16; i++)
            region.Write32(i * 4, (uint)i * 3);

        var all = region.Span<uint>(0, 16);
        var copy = new uint[4];
        all.Slice(12, 4).CopyTo(copy);

        Assert.Equal([36u, 39u, 42u, 45u], copy);
        Assert.Throws<ArgumentException>(() => region.Span<uint>(0, 16).CopyTo(new uint[15]));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.Span<uint>(0, 16).Slice(14, 4));
    }

    [Theory]
    [InlineData(0x100, 1)]    // starts at the end
    [InlineData(0xFC, 2)]     // runs past the end
    [InlineData(-4, 1)]
    [InlineData(0, -1)]
    [InlineData(0, int.MaxValue)]
    public void A_span_outside_the_region_is_refused_as_a_caller_mistake(long offset, int count)
    {
        using var region = MmioRegion.CreateShared(0x100);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => region.Span<uint>(offset, count));

        Assert.Equal("offset", e.ParamName);
        Assert.Contains(region.Name, e.Message, StringComparison.Ordinal);
        Assert.Contains("Span<UInt32>", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misaligned_span_is_refused_as_a_caller_mistake()
    {
        using var region = MmioRegion.CreateShared(0x100);

        Assert.Contains("not aligned", Assert.Throws<ArgumentOutOfRangeException>(() => region.Span<ushort>(0x11, 2)).Message, StringComparison.Ordinal);
        Assert.Contains("not aligned", Assert.Throws<ArgumentOutOfRangeException>(() => region.Span<ulong>(0x14, 1)).Message, StringComparison.Ordinal);
        Assert.Equal(1, region.Span<byte>(0x11, 1).Length);                  // bytes are always aligned
    }

    [Fact]
    public void An_index_outside_the_span_throws_and_touches_nothing()
    {
        using var region = MmioRegion.CreateShared(0x100);
        region.Write32(0x10, 0x1234);

        Assert.Throws<IndexOutOfRangeException>(() => region.Span<uint>(0x0C, 1)[1]);
        Assert.Throws<IndexOutOfRangeException>(() => region.Span<uint>(0x0C, 1)[-1] = 5);
        Assert.Equal(0x1234u, region.Read32(0x10));
    }

    [Fact]
    public void Unmapped_regions_disposed_regions_and_other_types_are_refused()
    {
        using var unmapped = MmioRegion.CreateShared(0x100, mapped: false);
        var e = Assert.Throws<VfioException>(() => unmapped.Span<uint>(0, 4));
        Assert.Equal(Errno.EOPNOTSUPP, e.Errno);
        Assert.Contains("use Read32/Write32", e.Message, StringComparison.Ordinal);

        var region = MmioRegion.CreateShared(0x100);
        Assert.Throws<NotSupportedException>(() => region.Span<int>(0, 1));
        Assert.Throws<NotSupportedException>(() => region.Span<double>(0, 1));
        region.Dispose();
        Assert.Throws<ObjectDisposedException>(() => region.Span<uint>(0, 1));
    }
}
