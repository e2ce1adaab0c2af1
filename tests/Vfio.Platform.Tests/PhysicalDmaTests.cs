using System.Buffers.Binary;
using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>DMA by physical address for no-IOMMU devices: the pagemap reading and every refusal, against a
/// fake kernel (the real one is exercised in the arm64 guest, where the probe reads the card by ADMA2).</summary>
public sealed class PhysicalDmaTests
{
    private static readonly nint HugeAddress = unchecked((nint)0x7f12_3440_0000L); // 2 MiB aligned, never touched
    private const ulong Present = 1UL << 63;

    [Fact]
    public void Only_a_device_in_a_no_IOMMU_group_has_a_physical_DMA_space()
    {
        var kernel = new FakeKernel();
        kernel.Sys.OnOpen("/dev/vfio/noiommu-0", FakeKernel.GroupFd);
        using (var container = kernel.OpenContainer(allowNoIommu: true))
        using (var group = container.OpenGroup("/dev/vfio/noiommu-0"))
        using (var device = group.OpenDevice("ff170000.mmc"))
        {
            Assert.Null(device.DmaSpace);
            Assert.NotNull(device.PhysicalDmaSpace);
        }

        var iommu = new FakeKernel();
        using (var container = iommu.OpenContainer())
        using (var group = container.OpenGroup("/dev/vfio/7"))
        using (var device = group.OpenDevice("ff170000.mmc"))
        {
            Assert.NotNull(device.DmaSpace);
            Assert.Null(device.PhysicalDmaSpace);
        }
    }

    [Fact]
    public void The_device_address_is_the_physical_address_of_the_first_page_read_from_pagemap()
    {
        var kernel = new PagemapKernel(i => Present | (0x4_0000UL + (ulong)i));
        var space = new PhysicalDmaSpace(kernel, "ff170000.mmc");
        using var buffer = HugeBuffer(kernel);

        using (var mapping = space.MapDma(buffer))
        {
            Assert.Equal(0x4_0000UL * 4096, mapping.Iova);
            Assert.Same(buffer, mapping.Buffer);
        }

        // One pagemap entry (8 bytes) per 4 KiB page, from the buffer's page number on, read to the end
        // although the kernel hands them out in short reads.
        Assert.Equal((long)HugeAddress / 4096 * 8, kernel.Offsets[0]);
        Assert.Equal(512 * 8, kernel.BytesRead);
        Assert.True(kernel.Offsets.Count > 1);
        Assert.Equal(0, kernel.OpenDescriptors);
        Assert.Equal(2UL << 20, space.GetIommuInfo().MinimumPageSize);
    }

    [Theory]
    [InlineData("no frame numbers", "EPERM", "CAP_SYS_ADMIN")]
    [InlineData("absent page", "EFAULT", "not in memory")]
    [InlineData("scattered", "EINVAL", "not physically contiguous")]
    public void Pagemap_entries_that_cannot_be_trusted_are_refused(string what, string errno, string message)
    {
        Func<int, ulong> frame = what switch
        {
            "no frame numbers" => _ => Present, // what a reader without CAP_SYS_ADMIN sees
            "absent page" => i => i == 7 ? 0 : Present | (0x4_0000UL + (ulong)i),
            _ => i => Present | (i < 300 ? 0x4_0000UL + (ulong)i : 0x9_0000UL + (ulong)i),
        };
        var kernel = new PagemapKernel(frame);
        using var buffer = HugeBuffer(kernel);

        var error = Assert.Throws<VfioException>(() => new PhysicalDmaSpace(kernel, "ff170000.mmc").MapDma(buffer));

        Assert.Equal(errno, error.ErrnoName);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains("ff170000.mmc", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kernel.OpenDescriptors); // pagemap closed on the way out
        buffer.Dispose(); // and the buffer not left counted as mapped
    }

    [Fact]
    public void Buffers_of_small_pages_chosen_addresses_and_read_only_mappings_are_refused_before_pagemap_is_read()
    {
        var kernel = new PagemapKernel(i => Present | (0x4_0000UL + (ulong)i));
        var space = new PhysicalDmaSpace(kernel, "ff170000.mmc");
        using var small = DmaBuffer.Allocate(4096);
        using var huge = HugeBuffer(kernel);

        var notHuge = Assert.Throws<ArgumentException>(() => space.MapDma(small));
        var chosen = Assert.Throws<ArgumentException>(() => space.MapDma(huge, iova: 0x1000));
        var readOnly = Assert.Throws<ArgumentException>(() => space.MapDma(huge, deviceWrites: false));

        Assert.Equal(("buffer", "iova", "deviceWrites"), (notHuge.ParamName, chosen.ParamName, readOnly.ParamName));
        Assert.Contains("huge pages", notHuge.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be chosen", chosen.Message, StringComparison.Ordinal);
        Assert.Contains("read-only", readOnly.Message, StringComparison.Ordinal);
        Assert.All([notHuge, chosen, readOnly], e => Assert.StartsWith("ff170000.mmc: map DMA by physical address", e.Message, StringComparison.Ordinal));
        Assert.Empty(kernel.Offsets);
    }

    [Theory]
    [InlineData(-Errno.ENOENT, 0, false, "ENOENT", "open(/proc/self/pagemap)")]
    [InlineData(0, -Errno.EINVAL, false, "EINVAL", "pread(/proc/self/pagemap)")]
    [InlineData(0, 0, true, "EIO", "pread(/proc/self/pagemap)")] // end of file before the last entry
    public void A_pagemap_that_cannot_be_read_names_the_call_and_the_errno(int openError, int readError, bool truncated, string errno, string call)
    {
        var kernel = new PagemapKernel(i => Present | (0x4_0000UL + (ulong)i)) { OpenError = openError, ReadError = readError, Truncated = truncated };
        using var buffer = HugeBuffer(kernel);

        var error = Assert.Throws<VfioException>(() => new PhysicalDmaSpace(kernel, "ff170000.mmc").MapDma(buffer));

        Assert.Equal(errno, error.ErrnoName);
        Assert.Contains(call, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kernel.OpenDescriptors);
    }

    private static DmaBuffer HugeBuffer(ISyscalls kernel) => DmaBuffer.Allocate(kernel, 2 << 20, hugePages: true);

    /// <summary>A kernel with one huge-page mapping at <see cref="HugeAddress"/> and a pagemap giving
    /// <c>frame(i)</c> for its page i, in short reads of 1000 bytes. Only what the physical DMA space and
    /// DmaBuffer call is there.</summary>
    private sealed class PagemapKernel(Func<int, ulong> frame) : ISyscalls
    {
        private const int PagemapFd = 104;

        public int OpenError { get; init; }

        public int ReadError { get; init; }

        /// <summary>End of file after the first read.</summary>
        public bool Truncated { get; init; }

        public int OpenDescriptors { get; private set; }

        public List<long> Offsets { get; } = [];

        public int BytesRead { get; private set; }

        public int Open(string path, int flags)
        {
            Assert.Equal("/proc/self/pagemap", path);
            Assert.Equal(LibcConstants.O_RDONLY | LibcConstants.O_CLOEXEC, flags);
            if (OpenError != 0)
            {
                return OpenError;
            }

            OpenDescriptors++;
            return PagemapFd;
        }

        public int Close(int fd)
        {
            Assert.Equal(PagemapFd, fd);
            OpenDescriptors--;
            return 0;
        }

        public nint Pread(int fd, Span<byte> buffer, long offset)
        {
            Assert.Equal(PagemapFd, fd);
            Offsets.Add(offset);
            if (ReadError != 0)
            {
                return ReadError;
            }

            if (Truncated && Offsets.Count > 1)
            {
                return 0;
            }

            var first = (offset - ((long)HugeAddress / 4096 * 8)) / 8;
            var count = Math.Min(buffer.Length, 1000) / 8;
            for (var i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer[(i * 8)..], frame((int)first + i));
            }

            BytesRead += count * 8;
            return count * 8;
        }

        public nint Mmap(nuint length, int protection, int flags, int fd, long offset)
        {
            Assert.NotEqual(0, flags & LibcConstants.MAP_HUGETLB);
            return HugeAddress;
        }

        public int Munmap(nint address, nuint length) => 0;

        public int Ioctl(int fd, uint request, nuint argument) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, Span<byte> argument) => throw new NotSupportedException();

        public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer) => throw new NotSupportedException();

        public int EventFd(uint initialValue, int flags) => throw new NotSupportedException();

        public nint ReadNonBlocking(int fd, Span<byte> buffer) => throw new NotSupportedException();

        public nint Write(int fd, ReadOnlySpan<byte> buffer) => throw new NotSupportedException();

        public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset) => throw new NotSupportedException();

        public int Poll(Span<pollfd> fds, int timeoutMilliseconds) => throw new NotSupportedException();
    }
}
