using Vfio.Native;

namespace Vfio.Platform;

/// <summary>Every failure of the VFIO API: the operation (<see cref="SystemCallException.Operation"/>), the
/// device, group, container or path it concerned (<see cref="SystemCallException.Target"/>, never null here),
/// the errno with its name (<see cref="SystemCallException.Errno"/>, <see cref="SystemCallException.ErrnoName"/>:
/// the one place where Vfio.Native's types show in this library's API, on purpose: the errno is the
/// kernel's answer), and a sentence that says what to do (<see cref="Hint"/>).</summary>
/// <example>
/// <code>
/// try { using var group = container.OpenGroup(42); }
/// catch (VfioException e) when (e.ErrnoName == "ENOENT") { Console.Error.WriteLine(e.Message); }
/// </code>
/// </example>
public class VfioException : SystemCallException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="operation">The call that failed (<c>VFIO_GROUP_GET_DEVICE_FD</c>, <c>open</c>).</param>
    /// <param name="device">The device, group or path it concerned.</param>
    /// <param name="errno">The errno (from the kernel, or the one that best names a failed check).</param>
    /// <param name="hint">What a person can do about it.</param>
    public VfioException(string operation, string device, int errno, string? hint = null)
        : base(operation, device, errno, hint)
    {
        Hint = hint;
    }

    /// <summary>What a person can do about it, or null.</summary>
    public string? Hint { get; }
}
