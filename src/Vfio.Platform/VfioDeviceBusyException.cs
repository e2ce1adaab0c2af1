namespace Vfio.Platform;

/// <summary>The device is in use and was not taken (a mounted card, a process holding its VFIO group):
/// <see cref="Users"/> says by whom, one line each.</summary>
public sealed class VfioDeviceBusyException : VfioException
{
    /// <summary>Creates the exception.</summary>
    public VfioDeviceBusyException(string operation, string device, IReadOnlyList<string> users, string? hint = null)
        : base(operation, device, Vfio.Native.Errno.EBUSY, $"in use: {string.Join("; ", users)}.{(hint is null ? "" : " " + hint)}")
    {
        Users = users;
    }

    /// <summary>Who uses the device (<c>mmcblk0p2 (179:2) mounted on /</c>, <c>pid 812 (qemu)</c>).</summary>
    public IReadOnlyList<string> Users { get; }
}
