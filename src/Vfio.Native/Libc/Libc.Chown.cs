using System.Runtime.InteropServices;

namespace Vfio.Native;

public static unsafe partial class Libc
{
    /// <summary><c>int chown(const char *pathname, uid_t owner, gid_t group)</c>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int chown(string pathname, uint owner, uint group);
}
