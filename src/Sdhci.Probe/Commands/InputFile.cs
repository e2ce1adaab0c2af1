using System.Globalization;

namespace Sdhci.Probe.Commands;

/// <summary><c>write --in</c>'s file, opened before the controller is touched and read a command's blocks at a time.</summary>
internal sealed class InputFile : IDisposable
{
    private readonly FileStream _stream;
    private long _position;

    private InputFile(string path, FileStream stream, long length)
    {
        Path = path;
        _stream = stream;
        Length = length;
    }

    /// <summary>The file's full path.</summary>
    public string Path { get; }

    /// <summary>Its length when opened.</summary>
    public long Length { get; }

    /// <summary>Opens <paramref name="path"/> for reading; its length must be a positive whole number of 512-byte blocks.</summary>
    /// <exception cref="ArgumentException">The length is 0 or not whole blocks.</exception>
    /// <exception cref="IOException">It cannot be opened; the message names it.</exception>
    public static InputFile Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        FileStream stream;
        try
        {
            stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--in {full}: cannot open it: {e.Message}", e);
        }

        var length = stream.Length;
        if (length == 0 || length % Sdhci.SdCard.BlockSize != 0)
        {
            stream.Dispose();
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--in {full}: is {length} bytes, not a whole number of 512-byte blocks; pad it (truncate -s)"));
        }

        return new InputFile(full, stream, length);
    }

    /// <summary>Fills <paramref name="blocks"/> with the file's next bytes.</summary>
    /// <exception cref="IOException">The file ended early (it shrank since it was opened) or could not be read.</exception>
    public void Read(Span<byte> blocks)
    {
        try
        {
            _stream.ReadExactly(blocks);
        }
        catch (IOException e)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"--in {Path}: reading {blocks.Length} bytes at offset {_position}: {e.Message}"), e);
        }

        _position += blocks.Length;
    }

    public void Dispose() => _stream.Dispose();
}
