using Vfio.Native;
using Vfio.Platform.Preparation;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>Least privilege: a binding can give the device's VFIO nodes to a user, parsed from
/// <c>USER[:GROUP]</c>; a failure to do so undoes the bind.</summary>
public sealed class NodeOwnerTests : IDisposable
{
    private readonly DirectoryInfo _etc = Directory.CreateTempSubdirectory("vfio-etc");

    public NodeOwnerTests()
    {
        File.WriteAllText(Path.Combine(_etc.FullName, "passwd"), "root:x:0:0:root:/root:/bin/sh\nprobe:x:1000:1001::/home/probe:/bin/sh\n");
        File.WriteAllText(Path.Combine(_etc.FullName, "group"), "root:x:0:\nprobe:x:1001:\nsdcard:x:1234:probe\n");
    }

    public void Dispose() => _etc.Delete(recursive: true);

    [Theory]
    [InlineData("probe", 1000u, 1001u)]         // the user's primary group
    [InlineData("probe:sdcard", 1000u, 1234u)]
    [InlineData("probe:", 1000u, 1001u)]
    [InlineData("2000", 2000u, 2000u)]
    [InlineData("2000:sdcard", 2000u, 1234u)]
    [InlineData("probe:77", 1000u, 77u)]
    public void Users_and_groups_are_found_by_name_or_number(string text, uint uid, uint gid)
    {
        Assert.Equal(new VfioNodeOwner(uid, gid), VfioNodeOwner.Parse(text, _etc.FullName));
    }

    [Theory]
    [InlineData("nobody-here")]
    [InlineData("probe:no-such-group")]
    [InlineData("-5")]
    public void Unknown_users_and_groups_are_usage_errors(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => VfioNodeOwner.Parse(text, _etc.FullName));

        Assert.Contains("no ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_group_node_goes_to_the_owner_once_the_device_is_bound_and_the_record_says_so()
    {
        using var tree = new FakeSysfsTree();
        var owner = new VfioNodeOwner(1000, 1001);

        using var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { Owner = owner });

        Assert.Equal([("dev/vfio/noiommu-0", 1000u, 1001u)], tree.Chowns);
        Assert.Equal(owner, binding.Record!.Owner);
        Assert.Contains("CAP_SYS_RAWIO", VfioNodeOwner.StillNeeded(binding.IsNoIommu, iommufd: false).Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_chown_undoes_the_bind()
    {
        using var tree = new FakeSysfsTree { ChownResult = -Errno.EPERM };

        var error = Assert.Throws<VfioException>(() => VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options with { Owner = new VfioNodeOwner(1000, 1000) }));

        Assert.Equal("chown", error.Operation);
        Assert.Equal("EPERM", error.ErrnoName);
        Assert.Equal("sdhci-arasan", tree.BoundDriver);
        Assert.False(File.Exists(tree.RecordPath));
    }

    [Fact]
    public void Without_an_owner_nothing_changes_hands()
    {
        using var tree = new FakeSysfsTree();

        using var binding = VfioDeviceBinding.Bind(tree, FakeSysfsTree.Device, tree.Options);

        Assert.Empty(tree.Chowns);
        Assert.Null(binding.Record!.Owner);
    }
}
