using System.Runtime.InteropServices;

namespace Vfio.Native;

/// <summary>A failed system call: which call, on what, and the errno with its symbolic name and text.
/// The one place where errno becomes an exception; Vfio.Platform's <c>VfioException</c> derives from it.</summary>
public class SystemCallException : IOException
{
    /// <summary>Creates the exception for <paramref name="errno"/>.</summary>
    /// <param name="operation">The call that failed, as a person would name it (<c>ioctl(VFIO_GROUP_GET_STATUS)</c>).</param>
    /// <param name="target">What it was called on (a path, a device name), or null.</param>
    /// <param name="errno">The error number.</param>
    /// <param name="hint">A sentence saying what to do about it, or null.</param>
    public SystemCallException(string operation, string? target, int errno, string? hint = null)
        : base(Format(operation, target, errno, hint))
    {
        Operation = operation;
        Target = target;
        Errno = errno;
        HResult = errno;
    }

    /// <summary>The call that failed.</summary>
    public string Operation { get; }

    /// <summary>What the call was made on, or null.</summary>
    public string? Target { get; }

    /// <summary>The errno value.</summary>
    public int Errno { get; }

    /// <summary>The errno's symbolic name (<c>ENOENT</c>), or <c>errno N</c> for an unknown value.</summary>
    public string ErrnoName => ErrnoNames.Of(Errno);

    /// <summary>Builds the exception from the errno the last P/Invoke call left.</summary>
    public static SystemCallException FromLastError(string operation, string? target = null, string? hint = null) =>
        new(operation, target, Marshal.GetLastPInvokeError(), hint);

    private static string Format(string operation, string? target, int errno, string? hint)
    {
        var where = target is null ? "" : $" on {target}";
        var text = $"{operation}{where} failed: {ErrnoNames.Of(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})";
        return hint is null ? text : $"{text}. {hint}";
    }
}
