using System.Runtime.InteropServices;

namespace Vfio.Native;

/// <summary>Owns a Linux file descriptor and closes it exactly once.</summary>
public sealed class SafeFd : SafeHandle
{
    /// <summary>An invalid descriptor, for marshalling.</summary>
    public SafeFd()
        : base(-1, ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    public SafeFd(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    /// <inheritdoc/>
    public override bool IsInvalid => (int)handle < 0;

    /// <summary>The descriptor number. Valid only while the handle is open and referenced.</summary>
    public int Fd => (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
