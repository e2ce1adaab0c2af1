using Vfio.Native;
using Vfio.Platform.Mmio;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>MmioRegion.CreateShared makes its memfd through the syscall seam like every other call: its
/// refusals are typed errors with the kernel's errno, and nothing opened is left behind.</summary>
public sealed class SharedRegionSeamTests
{
    private const int Memfd = 300;

    [Fact]
    public void A_refused_memfd_create_is_a_VfioException_with_the_errno()
    {
        var sys = new FakeSyscalls();
        sys.OnMemfdCreate(() => -Errno.EMFILE);

        var error = Assert.Throws<VfioException>(() => MmioRegion.CreateShared(sys, 0x1000, mapped: true));

        Assert.Equal("memfd_create", error.Operation);
        Assert.Equal("EMFILE", error.ErrnoName);
        Assert.DoesNotContain(sys.Calls, c => c.Name is "ftruncate" or "mmap" or "close");
    }

    [Fact]
    public void A_refused_ftruncate_closes_the_memfd()
    {
        var sys = new FakeSyscalls();
        sys.OnMemfdCreate(() => Memfd);
        sys.OnFtruncate((_, _) => -Errno.ENOSPC);

        var error = Assert.Throws<VfioException>(() => MmioRegion.CreateShared(sys, 0x2000, mapped: true));

        Assert.Equal("ENOSPC", error.ErrnoName);
        Assert.Equal("ftruncate(8192)", error.Operation);
        Assert.Equal(["memfd_create", "ftruncate", "close"], sys.Calls.Select(c => c.Name));
        Assert.Equal((Memfd, 0x2000L), (sys.Calls[1].Fd, sys.Calls[1].Offset));
        Assert.Equal(Memfd, sys.Calls[2].Fd);
    }

    [Fact]
    public void A_refused_mmap_closes_the_memfd_and_a_file_backed_region_maps_nothing()
    {
        var sys = new FakeSyscalls();
        sys.OnMemfdCreate(() => Memfd);
        sys.OnFtruncate((_, _) => 0);
        sys.OnMmap((_, _, _, _, _) => -Errno.ENOMEM);

        var error = Assert.Throws<VfioException>(() => MmioRegion.CreateShared(sys, 0x1000, mapped: true));
        using var unmapped = MmioRegion.CreateShared(sys, 0x1000, mapped: false);

        Assert.Equal("ENOMEM", error.ErrnoName);
        Assert.Equal(["memfd_create", "ftruncate", "mmap", "close", "memfd_create", "ftruncate"], sys.Calls.Select(c => c.Name));
        Assert.False(unmapped.IsMapped);
    }
}
