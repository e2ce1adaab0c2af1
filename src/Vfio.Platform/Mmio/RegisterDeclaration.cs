namespace Vfio.Platform.Mmio;

/// <summary>The check every register declaration makes once: inside its block, aligned to its width.</summary>
internal static class RegisterDeclaration
{
    public static int Check(string block, int blockSize, int offset, int width, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (offset < 0 || offset > blockSize - width)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"Register '{name}' ({width} bytes at 0x{offset:x}) is outside the {block} block of 0x{blockSize:x} bytes.");
        }

        if ((offset & (width - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"Register '{name}' of the {block} block is at 0x{offset:x}, not aligned to its {width} bytes.");
        }

        return offset;
    }
}
