using System.Text;
using Vfio.Native;

namespace Vfio.Platform.Preparation;

/// <summary>The real tree (or a test's copy of it), through open/write so errno survives.</summary>
internal class Sysfs(string sysfsRoot, string devRoot) : ISysfs
{
    public string SysfsRoot { get; } = sysfsRoot;

    public string DevRoot { get; } = devRoot;

    public bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;

    public string? LinkName(string path)
    {
        var target = new FileInfo(path).LinkTarget;
        return target is null ? null : Path.GetFileName(target.TrimEnd('/'));
    }

    public string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public virtual int TryOpen(string path, bool exclusive)
    {
        var fd = Libc.open(path, LibcConstants.O_RDONLY | LibcConstants.O_NONBLOCK | LibcConstants.O_CLOEXEC | (exclusive ? LibcConstants.O_EXCL : 0), 0);
        if (fd < 0)
        {
            return -System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        }

        _ = Libc.close(fd);
        return 0;
    }

    public virtual int Chown(string path, uint uid, uint gid) =>
        Libc.chown(path, uid, gid) < 0 ? -System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;

    public virtual int Write(string path, string value)
    {
        // O_TRUNC as a shell redirection does: sysfs ignores it, a test's plain file needs it.
        var fd = Libc.open(path, LibcConstants.O_WRONLY | LibcConstants.O_TRUNC | LibcConstants.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return -System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        }

        try
        {
            var written = Libc.write(fd, Encoding.UTF8.GetBytes(value));
            return written < 0 ? -System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }
}
