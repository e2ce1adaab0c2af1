using Vfio.Native;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>MSI/MSI-X style indexes: all vectors wired in one SET_IRQS, detached one by one, the index
/// disabled with the last. (QEMU's sdhci-pci has neither, so this is checked over the syscall seam.)</summary>
[Collection(nameof(DescriptorLeakTests))]
public sealed class MultiVectorTests
{
    private readonly FakeKernel _kernel = new();
    private readonly List<(uint Flags, uint Index, uint Start, uint Count, int[] Fds)> _sets = [];

    public MultiVectorTests()
    {
        var next = 300;
        _kernel.Sys.OnEventFd(() => next++);
        _kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_GET_INFO, argument =>
        {
            var info = new vfio_device_info { argsz = 24, flags = VfioUapi.VFIO_DEVICE_FLAGS_PCI, num_regions = 9, num_irqs = 5 };
            Structs.Bytes(ref info).CopyTo(argument);
            return 0;
        });
        _kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_GET_IRQ_INFO, argument =>
        {
            var info = new vfio_irq_info { argsz = 16, flags = VfioUapi.VFIO_IRQ_INFO_EVENTFD | VfioUapi.VFIO_IRQ_INFO_NORESIZE, count = 4 };
            Structs.Bytes(ref info).CopyTo(argument);
            return 0;
        });
        _kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, argument =>
        {
            var set = Structs.Read<vfio_irq_set>(argument, 0);
            var fds = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(argument[vfio_irq_set.data_Offset..]).ToArray();
            _sets.Add((set.flags, set.index, set.start, set.count, fds));
            return 0;
        });
    }

    [Fact]
    public void All_vectors_are_wired_at_once_detached_one_by_one_and_the_index_disabled_last()
    {
        using var container = _kernel.OpenContainer();
        var device = container.OpenGroup("/dev/vfio/7").OpenDevice("0000:00:01.0");

        var vectors = device.EnableInterrupts(2, 3);

        Assert.Equal([0, 1, 2], vectors.Select(v => v.Subindex));
        var wire = Assert.Single(_sets);
        Assert.Equal((uint)(VfioUapi.VFIO_IRQ_SET_DATA_EVENTFD | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER), wire.Flags);
        Assert.Equal((2u, 0u, 3u), (wire.Index, wire.Start, wire.Count));
        Assert.Equal([300, 301, 302], wire.Fds);

        vectors[1].Dispose();
        Assert.Equal((2u, 1u, 1u), (_sets[^1].Index, _sets[^1].Start, _sets[^1].Count));
        Assert.Equal([-1], _sets[^1].Fds); // only vector 1 detached

        vectors[0].Dispose();
        vectors[2].Dispose();
        Assert.Equal((uint)(VfioUapi.VFIO_IRQ_SET_DATA_NONE | VfioUapi.VFIO_IRQ_SET_ACTION_TRIGGER), _sets[^1].Flags);
        Assert.Equal(0u, _sets[^1].Count); // the last one disables the index
        Assert.Equal(4, _sets.Count);
    }

    [Fact]
    public void More_vectors_than_the_index_has_are_refused_before_any_eventfd_is_made()
    {
        using var container = _kernel.OpenContainer();
        var device = container.OpenGroup("/dev/vfio/7").OpenDevice("0000:00:01.0");
        var before = _kernel.OpenDescriptors;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => device.EnableInterrupts(2, 5));

        Assert.Equal(("count", 5), (error.ParamName, error.ActualValue));
        Assert.Contains("0000:00:01.0: EnableInterrupts: IRQ index 2 has 4 vector(s)", error.Message, StringComparison.Ordinal);
        Assert.Empty(_sets);
        Assert.Equal(before, _kernel.OpenDescriptors);
    }

    [Fact]
    public void A_refused_wiring_closes_every_eventfd_it_made()
    {
        _kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, -Errno.EINVAL);
        using var container = _kernel.OpenContainer();
        var device = container.OpenGroup("/dev/vfio/7").OpenDevice("0000:00:01.0");

        var error = Assert.Throws<VfioException>(() => device.EnableInterrupts(2, 4));

        Assert.Contains("allow_unsafe_interrupts", error.Message, StringComparison.Ordinal);
        Assert.Equal([300, 301, 302, 303], _kernel.Sys.Calls.Where(c => c.Name == "close" && c.Fd >= 300).Select(c => c.Fd).Order());
    }
}
