using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>Failures against the real kernel of this machine (which has no VFIO device for us) leave
/// no descriptor and no mapping behind: /proc/self/fd and /proc/self/maps are counted around each.</summary>
[Collection(nameof(DescriptorLeakTests))] // counting descriptors needs no other test opening them meanwhile
public sealed class DescriptorLeakTests
{
    private const int Repetitions = 20;

    public static TheoryData<string> Cases => ["missing container node", "a node that is not a VFIO container"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_failure_leaks_no_descriptor_and_no_mapping(string failure)
    {
        Action act = failure switch
        {
            "missing container node" => () => VfioContainer.Open(new VfioContainerOptions { ContainerPath = "/nonexistent/vfio" }),
            // /dev/null opens, then the API-version ioctl fails (ENOTTY) after a descriptor exists.
            _ => () =>
            {
                using var container = VfioContainer.Open(new VfioContainerOptions { ContainerPath = "/dev/null" });
            },
        };

        // Once unmeasured: the first failure JIT-compiles its path (exception, message, errno text), and
        // the runtime maps code memory for that. A leak repeats with every call; that does not.
        Assert.Throws<VfioException>(act);
        var fds = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        var maps = File.ReadAllLines("/proc/self/maps").Length;

        for (var i = 0; i < Repetitions; i++)
        {
            Assert.Throws<VfioException>(act);
        }

        Assert.Equal(fds, Directory.GetFileSystemEntries("/proc/self/fd").Length);
        // The runtime may map memory of its own meanwhile (background tiered compilation, GC): a few
        // mappings, not one per failure. A mapping leaked by the failure path gives Repetitions or more.
        var grown = File.ReadAllLines("/proc/self/maps").Length - maps;
        Assert.True(grown < Repetitions, $"/proc/self/maps grew by {grown} lines over {Repetitions} failures");
    }
}

[CollectionDefinition(nameof(DescriptorLeakTests), DisableParallelization = true)]
public sealed class DescriptorLeakGroup;
