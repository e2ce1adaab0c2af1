using System.Runtime.InteropServices;

namespace Vfio.Platform.Kernel;

/// <summary>A file descriptor that is closed through the <see cref="ISyscalls"/> that opened it, so a
/// test fake sees every close and a real descriptor is closed exactly once.</summary>
internal sealed class KernelFd : SafeHandle
{
    private readonly ISyscalls _sys;

    public KernelFd(ISyscalls sys, int fd)
        : base(-1, ownsHandle: true)
    {
        _sys = sys;
        SetHandle(fd);
    }

    public override bool IsInvalid => (int)handle < 0;

    /// <summary>The number, or ObjectDisposedException once closed.</summary>
    public int Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (int)handle;
        }
    }

    protected override bool ReleaseHandle() => _sys.Close((int)handle) == 0;
}
