using Vfio.Native;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The syscall seam takes spans, and callers build ioctl arguments on the stack: the interrupt hot
/// path (mask, unmask, trigger) allocates nothing, and the kernel still sees the right argument.</summary>
public sealed class IoctlAllocationTests
{
    private const int Rounds = 1000;

    [Fact]
    public void Unmask_mask_and_trigger_allocate_nothing_and_send_a_20_byte_vfio_irq_set()
    {
        var kernel = new FakeKernel();
        var sets = 0;
        uint lastFlags = 0, lastArgsz = 0, lastCount = 0;
        var lastLength = 0;
        kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_SET_IRQS, argument =>
        {
            var set = Structs.Read<vfio_irq_set>(argument, 0);
            (lastFlags, lastArgsz, lastCount, lastLength) = (set.flags, set.argsz, set.count, argument.Length);
            sets++;
            return 0;
        });
        using var container = kernel.OpenContainer();
        using var device = container.OpenGroup("/dev/vfio/7").OpenDevice("ff170000.mmc");
        using var irq = device.EnableInterrupt(0);
        kernel.Sys.Recording = false; // the fake's own record of calls would allocate
        irq.Unmask();
        irq.Mask();
        irq.Trigger();
        sets = 0;

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Rounds; i++)
        {
            irq.Mask();
            irq.Trigger();
            irq.Unmask();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(3 * Rounds, sets);
        Assert.Equal((uint)(VfioUapi.VFIO_IRQ_SET_DATA_NONE | VfioUapi.VFIO_IRQ_SET_ACTION_UNMASK), lastFlags);
        Assert.Equal((uint)vfio_irq_set.data_Offset, lastArgsz);
        Assert.Equal(vfio_irq_set.data_Offset, lastLength);
        Assert.Equal(1u, lastCount);
    }

    [Fact]
    public void A_device_query_allocates_only_its_answer()
    {
        var kernel = new FakeKernel();
        using var container = kernel.OpenContainer();
        using var device = container.OpenGroup("/dev/vfio/7").OpenDevice("ff170000.mmc");
        kernel.Sys.Recording = false;
        _ = device.GetIrqInfo(0);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var info = device.GetIrqInfo(0);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1u, info.Count); // what the fake kernel wrote back reached the answer
        Assert.True(info.IsAutomasked);
        Assert.True(allocated <= 48, $"GetIrqInfo allocated {allocated} bytes: more than its VfioIrqInfo");
    }
}
