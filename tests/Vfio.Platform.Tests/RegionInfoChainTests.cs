using System.Buffers.Binary;
using Vfio.Native;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>A capability chain is read within what the kernel filled (argsz), not the spare room of the
/// library's buffer: the last capability's length ends at argsz.</summary>
public sealed class RegionInfoChainTests
{
    [Fact]
    public void The_last_capability_ends_where_the_kernel_s_answer_ends()
    {
        const int Header = 32, CapLength = 16;
        var kernel = new FakeKernel();
        kernel.Sys.OnIoctl(FakeKernel.DeviceFd, VfioUapi.VFIO_DEVICE_GET_REGION_INFO, argument =>
        {
            Assert.True(argument.Length >= Header + CapLength, "the library offers room for a chain at once");
            BinaryPrimitives.WriteUInt32LittleEndian(argument, Header + CapLength);                      // argsz: what it needs
            BinaryPrimitives.WriteUInt32LittleEndian(argument[4..], VfioUapi.VFIO_REGION_INFO_FLAG_READ | VfioUapi.VFIO_REGION_INFO_FLAG_CAPS);
            BinaryPrimitives.WriteUInt32LittleEndian(argument[12..], Header);                            // cap_offset
            BinaryPrimitives.WriteUInt64LittleEndian(argument[16..], 0x1000);                            // size
            BinaryPrimitives.WriteUInt16LittleEndian(argument[Header..], 3);                             // id
            BinaryPrimitives.WriteUInt16LittleEndian(argument[(Header + 2)..], 1);                       // version, next = 0
            return 0;
        });
        using var container = kernel.OpenContainer();
        using var device = container.OpenGroup("/dev/vfio/7").OpenDevice("ff170000.mmc");

        var capability = Assert.Single(device.GetRegionInfo(0).Capabilities);

        Assert.Equal((3, 1, Header, CapLength), (capability.Id, capability.Version, capability.Offset, capability.Length));
    }
}
