using Vfio.Native;
using Vfio.Platform.Kernel;
using Vfio.Platform.Mmio;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>A sparse region (<c>VFIO_REGION_INFO_CAP_SPARSE_MMAP</c>) over a real memfd standing in for the
/// device file: every area is mapped, the gaps go through pread/pwrite, and both reach the same bytes.</summary>
[Collection(nameof(DescriptorLeakTests))]
public sealed class SparseRegionTests : IDisposable
{
    private const int Page = 4096;
    private const long FileOffset = 0x10000; // the region's offset in the "device file"
    private readonly int _memfd;
    private readonly ForwardingSyscalls _sys = new();

    public SparseRegionTests()
    {
        _memfd = Libc.memfd_create("vfio-net-sparse", LibcConstants.MFD_CLOEXEC);
        Assert.True(_memfd >= 0);
        Assert.Equal(0, Libc.ftruncate(_memfd, FileOffset + (4 * Page)));
        _sys.RefusedOffset = -1;
    }

    public void Dispose() => Libc.close(_memfd);

    private MmioRegion Map(params VfioSparseArea[] areas)
    {
        var info = new VfioRegionInfo(0, VfioUapi.VFIO_REGION_INFO_FLAG_READ | VfioUapi.VFIO_REGION_INFO_FLAG_WRITE | VfioUapi.VFIO_REGION_INFO_FLAG_MMAP | VfioUapi.VFIO_REGION_INFO_FLAG_CAPS,
            4 * Page, FileOffset, areas, null, []);
        var device = new KernelFd(new FakeSyscalls(), _memfd); // its close goes to a fake: the test closes the memfd
        return MmioRegion.Create(_sys, device, info, "fake BAR0");
    }

    [Fact]
    public void Each_area_is_mapped_at_its_file_offset_and_unmapped_on_dispose()
    {
        var region = Map(new VfioSparseArea(0, Page), new VfioSparseArea(2 * Page, 2 * Page));

        Assert.True(region.IsMapped);
        Assert.Equal([(0L, (long)Page), (2L * Page, 2L * Page)], region.MappedAreas);
        Assert.Equal([((nuint)Page, FileOffset), ((nuint)(2 * Page), FileOffset + (2 * Page))], _sys.Mmaps);

        region.Dispose();
        Assert.Equal(2, _sys.Unmaps);
        Assert.Throws<ObjectDisposedException>(() => region.Read32(2 * Page));
    }

    [Fact]
    public void A_register_block_binds_inside_one_area_and_not_in_or_across_a_gap()
    {
        var region = Map(new VfioSparseArea(0, Page), new VfioSparseArea(2 * Page, 2 * Page));

        var regs = region.Bind<TestSdhci>((2 * Page) + 0x100);
        regs.Write(TestSdhci.Status, 0x5151_5151);
        Assert.Equal(0x5151_5151UL, PreadFile((2 * Page) + 0x130, 4));
        regs.Write(TestSdhci.Status, 0); // the checked path sees the same register
        Assert.Equal(0u, region.Read32((2 * Page) + 0x130));
        _ = region.Bind<TestSdhci>(Page - TestSdhci.Size); // the end of the area at 0

        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<VfioException>(() => region.Bind<TestSdhci>(Page)).Errno);               // the gap
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<VfioException>(() => region.Bind<TestSdhci>(Page - 0x80)).Errno);        // across it

        // A bus bound for a small block at the end of an area reaches the rest of the region only checked: it cannot
        // carry a larger block (unchecked accesses) across the gap.
        var small = region.Bind<SmallBlock>(Page - SmallBlock.Size).Bus;
        Assert.True(small.Length >= TestSdhci.Size);
        Assert.Contains("mapped", Assert.Throws<ArgumentException>(() => RegisterBlock.Over<TestSdhci, MmioBus>(small)).Message, StringComparison.Ordinal);
        Assert.Equal(0u, small.Read32(SmallBlock.Size + 0x30)); // the checked path reads the gap through pread

        // With a block bound, Dispose leaves reservations where the areas were instead of unmapping them.
        region.Dispose();
        Assert.Equal(0, _sys.Unmaps);
    }

    [Fact]
    public void Areas_and_gaps_reach_the_same_bytes_as_the_device_file()
    {
        using var region = Map(new VfioSparseArea(0, Page), new VfioSparseArea(2 * Page, 2 * Page));

        region.Write32(0x10, 0x1111_1111);           // fast window (area at 0)
        region.Write64((2 * Page) + 0x8, 0x2222_3333_4444_5555); // second area, slow path, direct store
        region.Write16((4 * Page) - 2, 0xABCD);      // last bytes of the second area

        Assert.Equal(0x1111_1111u, PreadFile(0x10, 4));
        Assert.Equal(0x2222_3333_4444_5555UL, PreadFile((2 * Page) + 0x8, 8));
        Assert.Equal(0xABCDUL, PreadFile((4 * Page) - 2, 2));
        Assert.Equal(0x4444_5555u, region.Read32((2 * Page) + 0x8));
        Assert.Equal(0xABCD, region.View().Read16((4 * Page) - 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.Read32(4 * Page));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.Read32((2 * Page) + 2));
    }

    [Fact]
    public void Spans_live_inside_one_area_and_not_across_a_gap()
    {
        using var region = Map(new VfioSparseArea(0, Page), new VfioSparseArea(2 * Page, 2 * Page));

        region.Span<uint>((2 * Page) + 0x10, 2)[1] = 0x600D_CAFE;     // in the second area
        region.Span<uint>(0x20, 1)[0] = 0x0123_4567;                   // in the fast window

        Assert.Equal(0x600D_CAFEUL, PreadFile((2 * Page) + 0x14, 4));
        Assert.Equal(0x0123_4567UL, PreadFile(0x20, 4));
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<VfioException>(() => region.Span<uint>(Page - 4, 2)).Errno);      // runs into the gap
        Assert.Equal(Errno.EOPNOTSUPP, Assert.Throws<VfioException>(() => region.Span<uint>(Page + 8, 1)).Errno);      // in the gap
    }

    [Fact]
    public void An_area_the_kernel_refuses_to_map_is_left_out_and_reached_through_pread()
    {
        _sys.RefusedOffset = FileOffset + (3 * Page);
        using var region = Map(new VfioSparseArea(0, Page), new VfioSparseArea(3 * Page, Page));

        Assert.Equal([(0L, (long)Page)], region.MappedAreas);
        _ = region.Read32(3 * Page); // through pread
        _ = region.Read32(Page);     // a gap
        Assert.Equal(2, _sys.Preads);
    }

    [Fact]
    public void A_region_whose_areas_skip_offset_0_has_no_fast_window_but_maps_the_rest()
    {
        using var region = Map(new VfioSparseArea(Page, 3 * Page), new VfioSparseArea(0x123, Page)); // the second is not page-aligned: ignored

        Assert.False(region.IsMapped);
        Assert.Equal([((long)Page, 3L * Page)], region.MappedAreas);
        region.Write32(Page + 4, 0xFEED_F00D);
        Assert.Equal(0xFEED_F00Du, PreadFile(Page + 4, 4));
    }

    /// <summary>The real system calls, counted, with one mmap offset refused on request.</summary>
    private sealed class ForwardingSyscalls : ISyscalls
    {
        private readonly LinuxSyscalls _real = LinuxSyscalls.Instance;

        public long RefusedOffset { get; set; }

        public List<(nuint Length, long Offset)> Mmaps { get; } = [];

        public int Unmaps { get; private set; }

        public int Preads { get; private set; }

        public int Open(string path, int flags) => _real.Open(path, flags);

        public nint ReserveInaccessible(nint address, nuint length) => _real.ReserveInaccessible(address, length);

        public int Close(int fd) => _real.Close(fd);

        public int Ioctl(int fd, uint request, nuint argument) => _real.Ioctl(fd, request, argument);

        public int Ioctl(int fd, uint request, Span<byte> argument) => _real.Ioctl(fd, request, argument);

        public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer) => _real.Ioctl(fd, request, argument, addressOffset, buffer);

        public nint Mmap(nuint length, int protection, int flags, int fd, long offset)
        {
            Mmaps.Add((length, offset));
            return offset == RefusedOffset ? -Errno.EINVAL : _real.Mmap(length, protection, flags, fd, offset);
        }

        public int Munmap(nint address, nuint length)
        {
            Unmaps++;
            return _real.Munmap(address, length);
        }

        public int EventFd(uint initialValue, int flags) => _real.EventFd(initialValue, flags);

        public nint ReadNonBlocking(int fd, Span<byte> buffer) => _real.ReadNonBlocking(fd, buffer);

        public nint Write(int fd, ReadOnlySpan<byte> buffer) => _real.Write(fd, buffer);

        public nint Pread(int fd, Span<byte> buffer, long offset)
        {
            Preads++;
            return _real.Pread(fd, buffer, offset);
        }

        public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset) => _real.Pwrite(fd, buffer, offset);

        public int Poll(Span<pollfd> fds, int timeoutMilliseconds) => _real.Poll(fds, timeoutMilliseconds);
    }

    private ulong PreadFile(long offset, int width)
    {
        var buffer = new byte[8];
        Assert.Equal(width, (int)Libc.pread(_memfd, buffer.AsSpan(0, width), FileOffset + offset));
        return BitConverter.ToUInt64(buffer);
    }
}

/// <summary>A block of 0x40 bytes, smaller than <see cref="TestSdhci"/>.</summary>
internal readonly struct SmallBlock : IRegisterBlock
{
    public static string Name => "Small";

    public static int Size => 0x40;
}
