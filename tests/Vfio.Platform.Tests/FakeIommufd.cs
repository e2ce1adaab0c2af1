using NSubstitute;
using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Tests;

/// <summary>A syscall seam with /dev/iommu that allocates one IOAS and maps whatever it is given: the start
/// of every iommufd DMA test (unmap behaviour is each test's own).</summary>
internal static class FakeIommufd
{
    public const int Fd = 200;

    public static ISyscalls Syscalls(uint ioasId = 3)
    {
        var sys = Substitute.For<ISyscalls>();
        sys.Open("/dev/iommu", Arg.Any<int>()).Returns(Fd);
        sys.Ioctl(Fd, IommufdUapi.IOMMU_IOAS_ALLOC, Arg.Any<byte[]>()).Returns(call =>
        {
            var alloc = new iommu_ioas_alloc { size = 12, out_ioas_id = ioasId };
            Structs.Bytes(ref alloc).CopyTo(call.Arg<byte[]>());
            return 0;
        });
        sys.Ioctl(Fd, IommufdUapi.IOMMU_IOAS_MAP, Arg.Any<byte[]>()).Returns(0);
        return sys;
    }
}
