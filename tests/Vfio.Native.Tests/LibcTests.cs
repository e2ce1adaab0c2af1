using System.Buffers.Binary;
using Xunit;

namespace Vfio.Native.Tests;

/// <summary>The libc bindings against the real C library of this machine.</summary>
public sealed class LibcTests
{
    [Fact]
    public void An_eventfd_counts_what_is_written_and_reports_EAGAIN_when_empty()
    {
        using var fd = new SafeFd(Libc.eventfd(0, LibcConstants.EFD_CLOEXEC | LibcConstants.EFD_NONBLOCK));
        Assert.False(fd.IsInvalid);
        Span<byte> value = stackalloc byte[8];

        BinaryPrimitives.WriteUInt64LittleEndian(value, 3);
        Assert.Equal(8, Libc.write(fd.Fd, value));
        Assert.Equal(8, Libc.write(fd.Fd, value));
        value.Clear();
        Assert.Equal(8, Libc.read(fd.Fd, value));
        Assert.Equal(6UL, BinaryPrimitives.ReadUInt64LittleEndian(value));

        Assert.Equal(-1, Libc.read(fd.Fd, value));
        var error = SystemCallException.FromLastError("read(eventfd)", "test");
        Assert.Equal(Errno.EAGAIN, error.Errno);
        Assert.Equal("EAGAIN", error.ErrnoName);
    }

    [Fact]
    public void The_interrupt_path_calls_return_the_errno_themselves()
    {
        using var fd = new SafeFd(Libc.eventfd(0, LibcConstants.EFD_CLOEXEC | LibcConstants.EFD_NONBLOCK));
        Span<byte> value = stackalloc byte[8];
        Span<pollfd> fds = [new pollfd { fd = fd.Fd, events = (short)LibcConstants.POLLIN }];

        Assert.Equal(-Errno.EAGAIN, Libc.read_nonblocking_or_errno(fd.Fd, value));
        Assert.Equal(0, Libc.poll_or_errno(fds, 0));

        BinaryPrimitives.WriteUInt64LittleEndian(value, 5);
        Assert.Equal(8, Libc.write(fd.Fd, value));
        Assert.Equal(1, Libc.poll_or_errno(fds, 1000));
        value.Clear();
        Assert.Equal(8, Libc.read_nonblocking_or_errno(fd.Fd, value));
        Assert.Equal(5UL, BinaryPrimitives.ReadUInt64LittleEndian(value));

        // No such descriptor: the errno comes back negated (poll reports it per descriptor instead).
        Assert.Equal(-Errno.EBADF, Libc.read_nonblocking_or_errno(-1, value));
        fds[0].fd = int.MaxValue;
        Assert.Equal(1, Libc.poll_or_errno(fds, 0));
        Assert.Equal(LibcConstants.POLLNVAL, fds[0].revents);
    }

    [Fact]
    public void A_failed_open_names_the_call_the_path_and_the_errno()
    {
        const string Path = "/nonexistent/vfio.net/device";
        Assert.Equal(-1, Libc.open(Path, LibcConstants.O_RDWR | LibcConstants.O_CLOEXEC, 0));

        var error = SystemCallException.FromLastError("open", Path, hint: "Is the device bound to a VFIO driver?");

        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Equal("open on /nonexistent/vfio.net/device failed: ENOENT (No such file or directory). Is the device bound to a VFIO driver?", error.Message);
    }

    [Fact]
    public void A_memfd_reads_back_what_pwrite_put_there()
    {
        using var fd = new SafeFd(Libc.memfd_create("vfio-net-test", LibcConstants.MFD_CLOEXEC));
        Assert.False(fd.IsInvalid);
        Assert.Equal(0, Libc.ftruncate(fd.Fd, 4096));

        Assert.Equal(4, Libc.pwrite(fd.Fd, [1, 2, 3, 4], 100));
        var back = new byte[6];
        Assert.Equal(6, Libc.pread(fd.Fd, back, 99));

        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 0 }, back);
    }

    [Fact]
    public void Errno_names_prefer_the_first_definition_of_an_alias()
    {
        Assert.Equal("EAGAIN", ErrnoNames.Of(Errno.EWOULDBLOCK));
        Assert.Equal("EDEADLK", ErrnoNames.Of(Errno.EDEADLOCK));
        Assert.Equal("errno 4242", ErrnoNames.Of(4242));
    }

    [Fact]
    public void A_flexible_array_never_reaches_past_its_buffer()
    {
        var buffer = new byte[vfio_irq_set.data_Offset + 8];

        Assert.Equal(8, vfio_irq_set.data(buffer, 8).Length);
        Assert.Equal(2, vfio_iommu_type1_info_cap_iova_range.iova_ranges(new byte[16 + 32], 2).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => vfio_irq_set.data(buffer, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => vfio_irq_set.data(buffer, -1));
    }

    [Fact]
    public void A_disposed_SafeFd_is_closed()
    {
        var fd = new SafeFd(Libc.eventfd(0, LibcConstants.EFD_CLOEXEC));
        var number = fd.Fd;
        Assert.True(File.Exists($"/proc/self/fd/{number}"));

        fd.Dispose();

        // (Closing the number again to see EBADF would race with other tests reusing it.)
        Assert.True(fd.IsClosed);
    }
}
