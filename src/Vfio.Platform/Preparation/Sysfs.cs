using System.Text;
using Vfio.Native;

namespace Vfio.Platform.Preparation;

/// <summary>The real tree (or a test's copy of it), through open/write so errno survives. The only
/// place in the library that touches sysfs, procfs and the device nodes' names.</summary>
/// <param name="sysfsRoot">Where sysfs is mounted.</param>
/// <param name="devRoot">Where device nodes live.</param>
/// <param name="procRoot">Where procfs is mounted.</param>
internal class Sysfs(string sysfsRoot, string devRoot = Sysfs.DefaultDevRoot, string procRoot = Sysfs.DefaultProcRoot) : ISysfs
{
    /// <summary>Where the kernel mounts sysfs: the default of every option and parameter that names the root.</summary>
    public const string DefaultRoot = "/sys";

    /// <summary>Where devtmpfs puts device nodes.</summary>
    public const string DefaultDevRoot = "/dev";

    /// <summary>Where procfs is mounted.</summary>
    public const string DefaultProcRoot = "/proc";

    public string SysfsRoot { get; } = sysfsRoot;

    /// <summary>The tree a binding's options name.</summary>
    public static Sysfs Of(VfioBindOptions options) => new(options.SysfsRoot, options.DevRoot, options.ProcRoot);

    public string DevRoot { get; } = devRoot;

    public string ProcRoot { get; } = procRoot;

    public virtual bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || LinkTarget(path) is not null;

    public virtual bool IsDirectory(string path) => Directory.Exists(path);

    public virtual IReadOnlyList<string> Entries(string directory)
    {
        try
        {
            return [.. Directory.EnumerateFileSystemEntries(directory).Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // missing, not a directory, gone meanwhile (a process), or not ours to read
        }
    }

    public virtual string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public virtual string? LinkName(string path) => LinkTarget(path) is { } target ? Path.GetFileName(target.TrimEnd('/')) : null;

    public virtual string ResolveLink(string path)
    {
        try
        {
            return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return path;
        }
    }

    public virtual string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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
