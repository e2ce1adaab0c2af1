using System.Buffers.Binary;
using System.Runtime.InteropServices;
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
    public void An_ioctl_with_a_second_buffer_writes_its_address_into_the_argument()
    {
        Assert.Equal(iommu_ioas_iova_ranges.AllowedIovasOffset, Marshal.OffsetOf<iommu_ioas_iova_ranges>(nameof(iommu_ioas_iova_ranges.allowed_iovas)).ToInt32());
        var argument = new byte[32];
        var ranges = GC.AllocateArray<byte>(64, pinned: true); // pinned, so its address is the one the call saw

        Assert.Equal(-1, Libc.ioctl(-1, 0, argument, iommu_ioas_iova_ranges.AllowedIovasOffset, ranges));

        Assert.Equal(Errno.EBADF, Marshal.GetLastPInvokeError());
        Assert.Equal((ulong)Marshal.UnsafeAddrOfPinnedArrayElement(ranges, 0), BitConverter.ToUInt64(argument, iommu_ioas_iova_ranges.AllowedIovasOffset));
        Assert.Throws<ArgumentOutOfRangeException>(() => Libc.ioctl(-1, 0, argument, 25, ranges));
        Assert.Throws<ArgumentOutOfRangeException>(() => Libc.ioctl(-1, 0, argument, -1, ranges));
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
    [Fact]
    public void Descriptors_sent_with_sendmsg_arrive_as_new_close_on_exec_descriptors_of_the_same_files()
    {
        Span<int> pair = stackalloc int[2];
        Assert.Equal(0, Libc.socketpair(SocketConstants.AF_UNIX, SocketConstants.SOCK_STREAM | SocketConstants.SOCK_CLOEXEC, 0, pair));
        using var left = new SafeFd(pair[0]);
        using var right = new SafeFd(pair[1]);
        using var counter = new SafeFd(Libc.eventfd(0, LibcConstants.EFD_CLOEXEC | LibcConstants.EFD_NONBLOCK));

        Assert.Equal(3, Libc.sendmsg(left.Fd, "abc"u8, [counter.Fd, counter.Fd], SocketConstants.MSG_NOSIGNAL));
        var data = new byte[16];
        Span<int> fds = stackalloc int[4];
        var received = Libc.recvmsg(right.Fd, data, fds, SocketConstants.MSG_CMSG_CLOEXEC, out var count, out var flags);

        Assert.Equal(3, received);
        Assert.Equal("abc"u8.ToArray(), data[..3]);
        Assert.Equal(2, count);
        Assert.Equal(0, flags & (SocketConstants.MSG_CTRUNC | SocketConstants.MSG_TRUNC));
        using var first = new SafeFd(fds[0]);
        using var second = new SafeFd(fds[1]);
        Assert.NotEqual(counter.Fd, first.Fd);
        Assert.NotEqual(first.Fd, second.Fd);
        // The same eventfd: a count written through the original is read through the received copy.
        Span<byte> value = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(value, 7);
        Assert.Equal(8, Libc.write(counter.Fd, value));
        Assert.Equal(8, Libc.read(first.Fd, value));
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(value));
        Assert.Contains("FD_CLOEXEC", Flags(first.Fd), StringComparison.Ordinal);
    }

    [Fact]
    public void Descriptors_beyond_the_room_offered_are_dropped_by_the_kernel_and_flagged_MSG_CTRUNC()
    {
        Span<int> pair = stackalloc int[2];
        Assert.Equal(0, Libc.socketpair(SocketConstants.AF_UNIX, SocketConstants.SOCK_STREAM | SocketConstants.SOCK_CLOEXEC, 0, pair));
        using var left = new SafeFd(pair[0]);
        using var right = new SafeFd(pair[1]);
        using var counter = new SafeFd(Libc.eventfd(0, LibcConstants.EFD_CLOEXEC));

        // Three sent, room for one: with CMSG_SPACE's padding there would be room for two.
        Assert.Equal(1, Libc.sendmsg(left.Fd, "x"u8, [counter.Fd, counter.Fd, counter.Fd], 0));
        Span<int> fds = stackalloc int[1];
        Assert.Equal(1, Libc.recvmsg(right.Fd, new byte[4], fds, SocketConstants.MSG_CMSG_CLOEXEC, out var count, out var flags));

        Assert.Equal(1, count);
        Assert.Equal(SocketConstants.MSG_CTRUNC, flags & SocketConstants.MSG_CTRUNC);
        using var received = new SafeFd(fds[0]);
        // Counted by the eventfd's identity, not by /proc/self/fd's length, which parallel tests change:
        // this process holds the original and the one received, none of the dropped two.
        Assert.Equal(2, DescriptorsOf(EventFdId(counter.Fd)));
    }

    [Fact]
    public void Recvmsg_on_a_closed_peer_returns_0_and_no_descriptor()
    {
        Span<int> pair = stackalloc int[2];
        Assert.Equal(0, Libc.socketpair(SocketConstants.AF_UNIX, SocketConstants.SOCK_STREAM | SocketConstants.SOCK_CLOEXEC, 0, pair));
        using var right = new SafeFd(pair[1]);
        Assert.Equal(0, Libc.close(pair[0]));

        Span<int> fds = stackalloc int[2];
        Assert.Equal(0, Libc.recvmsg(right.Fd, new byte[4], fds, 0, out var count, out _));
        Assert.Equal(0, count);
    }

    private static string EventFdId(int fd) =>
        File.ReadAllLines($"/proc/self/fdinfo/{fd}").Single(l => l.StartsWith("eventfd-id:", StringComparison.Ordinal));

    private static int DescriptorsOf(string eventFdId) => Directory.GetFiles("/proc/self/fdinfo").Count(info =>
    {
        try
        {
            return File.ReadAllLines(info).Contains(eventFdId);
        }
        catch (IOException)
        {
            return false; // closed meanwhile by another test
        }
    });

    private static string Flags(int fd) => File.ReadAllText($"/proc/self/fdinfo/{fd}").Split('\n').First(l => l.StartsWith("flags:", StringComparison.Ordinal)) switch
    {
        var line when (Convert.ToInt32(line["flags:".Length..].Trim(), 8) & LibcConstants.O_CLOEXEC) != 0 => "FD_CLOEXEC",
        var line => line,
    };
}
