using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Tests;

/// <summary>A syscall seam with /dev/iommu that allocates one IOAS and maps whatever it is given: the start
/// of every iommufd DMA test (unmap behaviour is each test's own).</summary>
internal static class FakeIommufd
{
    public const int Fd = 200;

    public static FakeSyscalls Syscalls(uint ioasId = 3)
    {
        var sys = new FakeSyscalls();
        sys.OnOpen("/dev/iommu", Fd);
        sys.OnIoctl(Fd, IommufdUapi.IOMMU_IOAS_ALLOC, argument =>
        {
            var alloc = new iommu_ioas_alloc { size = 12, out_ioas_id = ioasId };
            Structs.Bytes(ref alloc).CopyTo(argument);
            return 0;
        });
        sys.OnIoctl(Fd, IommufdUapi.IOMMU_IOAS_MAP, 0);
        return sys;
    }
}
