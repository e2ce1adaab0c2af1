using Vfio.Native;
using Vfio.Platform.Dma;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>DMA buffers of 2 MiB and 1 GiB huge pages: the size asked of mmap, the rounding, and the
/// refusal's advice.</summary>
public sealed class DmaHugePageTests
{
    private static readonly nint Address = unchecked((nint)0x7f00_0000_0000L);

    [Theory]
    [InlineData(DmaBuffer.HugePage2M, 21, 3L << 20, 4L << 20)]
    [InlineData(DmaBuffer.HugePage1G, 30, 1L << 20, 1L << 30)]
    public void Huge_pages_of_a_size_are_asked_of_mmap_by_that_size(long pageSize, int log2, long size, long rounded)
    {
        var sys = AnonymousMmap(Address);

        using var buffer = DmaBuffer.Allocate(sys, size, pageSize);

        Assert.Equal(rounded, buffer.Length);
        Assert.Equal(pageSize, buffer.PageSize);
        Assert.True(buffer.HugePages);
        var flags = LibcConstants.MAP_SHARED | LibcConstants.MAP_ANONYMOUS | LibcConstants.MAP_POPULATE | LibcConstants.MAP_HUGETLB | (log2 << LibcConstants.MAP_HUGE_SHIFT);
        var mmap = Assert.Single(sys.Calls, c => c.Name == "mmap");
        Assert.Equal(((nuint)rounded, LibcConstants.PROT_READ | LibcConstants.PROT_WRITE, flags, -1, 0L), (mmap.Value, mmap.Protection, mmap.Flags, mmap.Fd, mmap.Offset));
    }

    [Fact]
    public void Ordinary_pages_are_not_huge()
    {
        var sys = AnonymousMmap(Address);

        using var buffer = DmaBuffer.Allocate(sys, 100, hugePages: false);

        Assert.False(buffer.HugePages);
        Assert.Equal(Environment.SystemPageSize, buffer.PageSize);
        Assert.Equal(Environment.SystemPageSize, buffer.Length);
    }

    [Fact]
    public void A_page_size_other_than_2_MiB_or_1_GiB_is_refused_before_mmap()
    {
        var sys = AnonymousMmap(Address);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => DmaBuffer.Allocate(sys, 1 << 20, 4L << 20));

        Assert.Equal("pageSize", error.ParamName);
        Assert.DoesNotContain(sys.Calls, c => c.Name == "mmap");
    }

    [Fact]
    public void No_1_GiB_page_reserved_says_how_to_reserve_one()
    {
        var sys = AnonymousMmap(-Errno.ENOMEM);

        var error = Assert.Throws<VfioException>(() => DmaBuffer.Allocate(sys, 1L << 30, DmaBuffer.HugePage1G));

        Assert.Equal("ENOMEM", error.ErrnoName);
        Assert.Contains("hugepagesz=1G", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A seam whose anonymous mmaps (fd -1, offset 0) answer <paramref name="result"/>: an address never touched, or an errno.</summary>
    private static FakeSyscalls AnonymousMmap(nint result)
    {
        var sys = new FakeSyscalls();
        sys.OnMmap((_, _, _, fd, offset) => fd == -1 && offset == 0 ? result : 0);
        sys.OnMunmap((_, _) => 0);
        return sys;
    }
}
