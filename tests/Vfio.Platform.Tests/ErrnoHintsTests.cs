using Vfio.Native;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The one table of the library's advice per kernel call and errno (issue 16: not repeated at call sites).</summary>
public class ErrnoHintsTests
{
    [Fact]
    public void A_permission_refusal_names_the_node_to_give_the_user()
    {
        foreach (var (call, node) in new[] { (KernelCall.OpenContainer, "/dev/vfio/vfio"), (KernelCall.OpenGroup, "/dev/vfio/7"), (KernelCall.OpenCdev, "/dev/vfio/devices/vfio3") })
        {
            foreach (var errno in (int[])[Errno.EACCES, Errno.EPERM])
            {
                var hint = ErrnoHints.For(call, errno, node, "0000:00:01.0");

                Assert.Equal($"Permission denied: run as root or give your user {node} (chown, or a udev rule).", hint);
            }
        }
    }

    [Fact]
    public void Placeholders_are_filled_with_the_call_arguments()
    {
        Assert.Equal("/dev/vfio/2 has no device named ff170000.mmc.", ErrnoHints.For(KernelCall.GetDeviceFd, Errno.ENODEV, "/dev/vfio/2", "ff170000.mmc"));
        Assert.Equal("No /dev/vfio/devices/vfio0: is devtmpfs mounted, and is 0000:00:06.0 still bound to VFIO?",
            ErrnoHints.For(KernelCall.OpenCdev, Errno.ENOENT, "/dev/vfio/devices/vfio0", "0000:00:06.0"));
    }

    [Fact]
    public void The_same_refusal_of_different_calls_gets_the_same_words_and_an_unknown_one_none()
    {
        Assert.Equal(ErrnoHints.For(KernelCall.MapDmaType1, Errno.ENOMEM), ErrnoHints.For(KernelCall.MapDmaIoas, Errno.ENOMEM));
        Assert.Contains("ulimit -l", ErrnoHints.For(KernelCall.MapDmaIoas, Errno.ENOMEM), StringComparison.Ordinal);
        Assert.Contains("allow_unsafe_interrupts", ErrnoHints.For(KernelCall.SetIrqsEventFd, Errno.EINVAL), StringComparison.Ordinal);
        Assert.Null(ErrnoHints.For(KernelCall.SetIrqsEventFd, Errno.EIO));
        Assert.Null(ErrnoHints.For(KernelCall.BindIommufd, Errno.ENOENT));
    }
}
