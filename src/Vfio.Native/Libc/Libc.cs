namespace Vfio.Native;

/// <summary>The C library calls a VFIO user needs, one entry point per file (Libc.Open.cs, Libc.Ioctl.cs...),
/// declared as close to their C prototypes as C# allows. Every call sets the last P/Invoke error, so a
/// failure's errno is read with <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>
/// and turned into an exception by <see cref="SystemCallException.FromLastError"/>. The exceptions are the
/// two calls of the interrupt path (<c>poll_or_errno</c>, <c>read_nonblocking_or_errno</c>), which return
/// <c>-errno</c> themselves and skip that bookkeeping.</summary>
public static unsafe partial class Libc
{
    private const string LibraryName = "libc";
}
