namespace Vfio.Platform.Preparation;

/// <summary>Every sysfs, procfs and /dev look-up the library makes, with paths under the roots so a test
/// can point them at a temporary tree (or override a call to inject a failure). Nothing in Vfio.Platform
/// reads those trees another way. Writes return a negative errno like the kernel does, so
/// "drivers_probe failed: ENODEV" reaches the user exactly.</summary>
internal interface ISysfs
{
    /// <summary>Where sysfs is mounted (<see cref="Sysfs.DefaultRoot"/>).</summary>
    string SysfsRoot { get; }

    /// <summary>Where device nodes live (<see cref="Sysfs.DefaultDevRoot"/>).</summary>
    string DevRoot { get; }

    /// <summary>Where procfs is mounted (<see cref="Sysfs.DefaultProcRoot"/>): mounts, swaps, processes.</summary>
    string ProcRoot { get; }

    /// <summary>A file, a directory or a symlink (dangling too) is there.</summary>
    bool Exists(string path);

    /// <summary>A directory, or a symlink to one, is there.</summary>
    bool IsDirectory(string path);

    /// <summary>The entries of a directory (full paths, ordinal order); none when it is missing or unreadable.</summary>
    IReadOnlyList<string> Entries(string directory);

    /// <summary>A symlink's target as the link holds it, or null when <paramref name="path"/> is no link.</summary>
    string? LinkTarget(string path);

    /// <summary>The file name of a symlink's target (<c>driver</c> to <c>sdhci-arasan</c>), or null.</summary>
    string? LinkName(string path);

    /// <summary>Where a chain of symlinks ends (<c>/dev/disk/by-uuid/X</c> to <c>/dev/mmcblk0p2</c>);
    /// <paramref name="path"/> itself when it is no link or cannot be resolved.</summary>
    string ResolveLink(string path);

    /// <summary>A file's text with surrounding white space trimmed, or null when it is missing or unreadable.</summary>
    string? ReadText(string path);

    /// <summary>Writes <paramref name="value"/> in one write(2); 0 or a negative errno.</summary>
    int Write(string path, string value);

    /// <summary>Opens <paramref name="path"/> read-only and closes it again: 0 or a negative errno. With
    /// <paramref name="exclusive"/>, O_EXCL: a block device in use (mounted, swap, held) answers EBUSY.</summary>
    int TryOpen(string path, bool exclusive);

    /// <summary>chown(2): 0 or a negative errno.</summary>
    int Chown(string path, uint uid, uint gid);
}
