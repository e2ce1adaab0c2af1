using Vfio.Native;
using Vfio.Platform.Interrupts;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>VfioDevice.ReleaseRequested over a fake vfio-pci device whose device-request IRQ is a real
/// eventfd: the test signals it as the kernel would on an unbind.</summary>
[Collection(nameof(DescriptorLeakTests))] // one test swaps Console.Error
public sealed class ReleaseRequestTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    private readonly PciKernel _kernel = new();
    private readonly VfioContainer _container;
    private readonly VfioDevice _device;

    public ReleaseRequestTests()
    {
        _container = VfioContainer.Open(_kernel, new VfioContainerOptions());
        _device = _container.OpenGroup("/dev/vfio/7").OpenDevice("0000:00:01.0");
    }

    public void Dispose() => _container.Dispose();

    [Fact]
    public async Task A_handler_that_throws_is_reported_and_the_device_is_still_released()
    {
        var ct = TestContext.Current.CancellationToken;
        var reported = new TaskCompletionSource<VfioReleaseHandlerFailedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        _device.ReleaseRequested += (_, _) => throw new InvalidOperationException("handler bug");
        _device.ReleaseHandlerFailed += (_, e) => reported.TrySetResult(e);

        _kernel.RequestRelease();

        var failure = await reported.Task.WaitAsync(Bound, ct);
        Assert.Same(_device, failure.Device);
        Assert.Equal("handler bug", Assert.IsType<InvalidOperationException>(failure.Exception).Message);
        await _kernel.DeviceClosed.WaitAsync(Bound, ct);
        Assert.Throws<ObjectDisposedException>(() => _device.GetIrqInfo(0));
    }

    [Fact]
    public async Task A_handler_that_throws_does_not_keep_the_next_one_from_running()
    {
        var ct = TestContext.Current.CancellationToken;
        var second = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        var failures = 0;
        _device.ReleaseRequested += (_, _) => throw new InvalidOperationException("first");
        _device.ReleaseRequested += (_, e) => second.TrySetResult(e.Count);
        _device.ReleaseHandlerFailed += (_, _) => Interlocked.Increment(ref failures);

        _kernel.RequestRelease();

        Assert.Equal(1UL, await second.Task.WaitAsync(Bound, ct));
        await _kernel.DeviceClosed.WaitAsync(Bound, ct);
        Assert.Equal(1, Volatile.Read(ref failures));
    }

    [Fact]
    public async Task Without_a_failure_handler_the_failure_is_one_line_on_standard_error()
    {
        var ct = TestContext.Current.CancellationToken;
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            _device.ReleaseRequested += (_, _) => throw new InvalidOperationException("handler bug\nsecond line");

            _kernel.RequestRelease();
            await _kernel.DeviceClosed.WaitAsync(Bound, ct);
        }
        finally
        {
            Console.SetError(original);
        }

        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("0000:00:01.0", line, StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException: handler bug second line", line, StringComparison.Ordinal);
        Assert.Contains("releasing the device", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_handler_that_throws_too_is_written_to_standard_error_and_the_device_released()
    {
        var ct = TestContext.Current.CancellationToken;
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            _device.ReleaseRequested += (_, _) => throw new InvalidOperationException("handler bug");
            _device.ReleaseHandlerFailed += (_, _) => throw new InvalidOperationException("reporter bug");

            _kernel.RequestRelease();
            await _kernel.DeviceClosed.WaitAsync(Bound, ct);
        }
        finally
        {
            Console.SetError(original);
        }

        var text = error.ToString();
        Assert.Contains("handler bug", text, StringComparison.Ordinal);
        Assert.Contains("reporter bug", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_handler_that_returns_leaves_the_release_to_the_program()
    {
        var ct = TestContext.Current.CancellationToken;
        var raised = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _device.ReleaseRequested += (_, _) => raised.TrySetResult();

        _kernel.RequestRelease();
        await raised.Task.WaitAsync(Bound, ct);
        await Task.Delay(100, ct);

        Assert.False(_kernel.DeviceClosed.IsCompleted);
        _device.Dispose(); // the program's own release
        Assert.True(_kernel.DeviceClosed.IsCompleted);
    }

    /// <summary>FakeKernel's container, group and device, made a vfio-pci device with a device-request
    /// IRQ (index 4); eventfds, poll, read and write are the real ones.</summary>
    private sealed class PciKernel : ISyscalls
    {
        private readonly FakeKernel _fake = new();
        private readonly TaskCompletionSource _deviceClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _requestFd = -1;

        public PciKernel()
        {
            _fake.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_GET_INFO, argument =>
            {
                var info = new vfio_device_info { argsz = 24, flags = VfioUapi.VFIO_DEVICE_FLAGS_PCI, num_regions = 9, num_irqs = 5 };
                Structs.Bytes(ref info).CopyTo(argument);
                return 0;
            });
            _fake.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, argument =>
            {
                var set = Structs.Read<vfio_irq_set>(argument, 0);
                if ((set.flags & VfioUapi.VFIO_IRQ_SET_DATA_EVENTFD) != 0 && set.index == VfioUapi.VFIO_PCI_REQ_IRQ_INDEX && set.count == 1)
                {
                    Volatile.Write(ref _requestFd, BitConverter.ToInt32(argument[vfio_irq_set.data_Offset..]));
                }

                return 0;
            });
        }

        public Task DeviceClosed => _deviceClosed.Task;

        /// <summary>What vfio-pci does when the device is unbound while open: signal the request eventfd.</summary>
        public void RequestRelease()
        {
            var fd = Volatile.Read(ref _requestFd);
            Assert.True(fd >= 0, "the device-request IRQ was not wired");
            Assert.Equal(8, (int)LinuxSyscalls.Instance.Write(fd, BitConverter.GetBytes(1UL)));
        }

        public int Open(string path, int flags) => _fake.Sys.Open(path, flags);

        public int Close(int fd)
        {
            if (fd is FakeKernel.ContainerFd or FakeKernel.GroupFd or FakeKernel.DeviceFd)
            {
                if (fd == FakeKernel.DeviceFd)
                {
                    _deviceClosed.TrySetResult();
                }

                return _fake.Sys.Close(fd);
            }

            return LinuxSyscalls.Instance.Close(fd);
        }

        public int Ioctl(int fd, uint request, nuint argument) => _fake.Sys.Ioctl(fd, request, argument);

        public int Ioctl(int fd, uint request, Span<byte> argument) => _fake.Sys.Ioctl(fd, request, argument);

        public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer) => _fake.Sys.Ioctl(fd, request, argument, addressOffset, buffer);

        public nint Mmap(nuint length, int protection, int flags, int fd, long offset) => -Errno.ENODEV;

        public int Munmap(nint address, nuint length) => -Errno.EINVAL;

        public int EventFd(uint initialValue, int flags) => LinuxSyscalls.Instance.EventFd(initialValue, flags);

        public nint ReadNonBlocking(int fd, Span<byte> buffer) => LinuxSyscalls.Instance.ReadNonBlocking(fd, buffer);

        public nint Write(int fd, ReadOnlySpan<byte> buffer) => LinuxSyscalls.Instance.Write(fd, buffer);

        public nint Pread(int fd, Span<byte> buffer, long offset) => -Errno.EIO;

        public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset) => -Errno.EIO;

        public int Poll(Span<pollfd> fds, int timeoutMilliseconds) => LinuxSyscalls.Instance.Poll(fds, timeoutMilliseconds);
    }
}
