namespace Vfio.Platform.Preparation;

/// <summary>The sysfs and /dev operations device preparation needs, with paths relative to the roots
/// so a test can point them at a temporary tree. Writes return a negative errno like the kernel does,
/// so "drivers_probe failed: ENODEV" reaches the user exactly.</summary>
internal interface ISysfs
{
    string SysfsRoot { get; }

    string DevRoot { get; }

    bool Exists(string path);

    /// <summary>The file name of a symlink's target (<c>driver</c> to <c>sdhci-arasan</c>), or null.</summary>
    string? LinkName(string path);

    string? ReadText(string path);

    /// <summary>Writes <paramref name="value"/> in one write(2); 0 or a negative errno.</summary>
    int Write(string path, string value);

    /// <summary>Opens <paramref name="path"/> read-only and closes it again: 0 or a negative errno. With
    /// <paramref name="exclusive"/>, O_EXCL: a block device in use (mounted, swap, held) answers EBUSY.</summary>
    int TryOpen(string path, bool exclusive);

    /// <summary>chown(2): 0 or a negative errno.</summary>
    int Chown(string path, uint uid, uint gid);
}
