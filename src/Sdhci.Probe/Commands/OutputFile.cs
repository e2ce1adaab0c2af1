using System.Globalization;

namespace Sdhci.Probe.Commands;

/// <summary>
/// <c>read --out</c>'s file, opened before the controller is touched: created new (O_CREAT|O_EXCL, which
/// never follows a symlink), mode 0600, written a command's blocks at a time. Unless <see cref="Commit"/>
/// is called, <see cref="Discard"/> (and <see cref="Dispose"/>) removes it: the program created it, so a
/// failed or interrupted read leaves no partial file behind.
/// </summary>
internal sealed class OutputFile : IDisposable
{
    // Places where an existing name is a kernel object or a device node, never a file to replace.
    private static readonly string[] SystemTrees = ["/dev/", "/proc/", "/sys/"];

    /// <summary>The one device node --out takes: the blocks are read and thrown away (a timing run).</summary>
    public const string Discarded = "/dev/null";

    private readonly FileStream _stream;
    private readonly bool _created;
    private bool _committed;
    private bool _discarded;

    private OutputFile(string path, FileStream stream, bool created)
    {
        Path = path;
        _stream = stream;
        _created = created;
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>Bytes written so far.</summary>
    public long Length { get; private set; }

    /// <summary>
    /// Creates <paramref name="path"/>. An existing name is refused (a usage error), unless
    /// <paramref name="force"/> is given and it is a non-empty regular file outside /dev, /proc and /sys:
    /// that one is deleted and the file created anew, so the write never goes through a link. A symlink
    /// is refused even with <paramref name="force"/>. <see cref="Discarded"/> (/dev/null) is opened as it is, never
    /// created or removed.
    /// </summary>
    /// <exception cref="ArgumentException">The name exists (without force, or is not a file that may be replaced).</exception>
    /// <exception cref="IOException">The file cannot be created; the message names it.</exception>
    public static OutputFile Create(string path, bool force)
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("sdhci-probe runs on Linux.");
        var full = System.IO.Path.GetFullPath(path);
        if (full == Discarded)
            return new OutputFile(full, new FileStream(full, FileMode.Open, FileAccess.Write), created: false);
        var existing = new FileInfo(full);
        // FileInfo.Exists is true for a symlink, dangling or not, and LinkTarget names its target without following it.
        if (existing.LinkTarget is { } target)
            throw new ArgumentException($"--out {full}: is a symbolic link (to {target}); refused, even with --force: give the real path");
        if (Directory.Exists(full))
            throw new ArgumentException($"--out {full}: is a directory; give a file name");
        if (existing.Exists)
        {
            if (!force)
                throw new ArgumentException($"--out {full}: exists; pass --force to replace it, or choose another name (nothing was touched)");
            // .NET cannot tell a regular file from a device node or FIFO without a stat call, but those always
            // have size 0, and /dev, /proc and /sys hold nothing to replace: deleting a device node as root would be a disaster.
            if (SystemTrees.Any(tree => full.StartsWith(tree, StringComparison.Ordinal)) || existing.Length == 0)
            {
                throw new ArgumentException(
                    $"--out {full}: exists and is empty or a system file (it may be a device node or a FIFO); refused even with --force: remove it yourself if it is a file");
            }

            try
            {
                existing.Delete();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"--out {full}: cannot remove the old file to replace it: {e.Message}", e);
            }
        }

        try
        {
            return new OutputFile(full, new FileStream(full, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }), created: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // EEXIST here means something appeared under the name after the checks: still never followed.
            throw new IOException($"--out {full}: cannot create it: {e.Message}", e);
        }
    }

    /// <summary>Appends <paramref name="blocks"/> (one command's worth, as the card delivers them).</summary>
    /// <exception cref="IOException">The write failed (disk full, I/O error); the message names the file.</exception>
    public void Write(ReadOnlySpan<byte> blocks)
    {
        try
        {
            _stream.Write(blocks);
        }
        catch (IOException e)
        {
            throw new IOException($"--out {Path}: writing {blocks.Length} bytes at offset {Length}: {e.Message}", e);
        }

        Length += blocks.Length;
    }

    /// <summary>Flushes and keeps the file: the read is complete.</summary>
    /// <exception cref="IOException">The last bytes could not be written.</exception>
    public void Commit()
    {
        try
        {
            _stream.Flush(flushToDisk: _created);
        }
        catch (IOException e)
        {
            throw new IOException($"--out {Path}: flushing: {e.Message}", e);
        }

        _committed = true;
        _stream.Dispose();
    }

    /// <summary>Closes and removes the file unless it was committed.</summary>
    /// <returns>What happened, to append to the failure's message; null when the file was kept.</returns>
    public string? Discard()
    {
        if (_committed || _discarded)
            return null;
        _discarded = true;
        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
            // Buffered bytes that cannot be written: the file is removed anyway.
        }

        if (!_created)
            return null;

        try
        {
            // It was created by this program; only a symlink put in its place since is left alone.
            if (new FileInfo(Path).LinkTarget is null)
                File.Delete(Path);
            return string.Create(CultureInfo.InvariantCulture, $"; the partial {Path} ({Length} bytes) was removed");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"; the partial {Path} could not be removed ({e.Message})";
        }
    }

    public void Dispose() => Discard();
}
