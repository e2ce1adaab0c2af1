namespace Vfio.Native;

/// <summary>Symbolic errno names, from the generated <see cref="Errno"/> table.</summary>
public static class ErrnoNames
{
    /// <summary>The name of <paramref name="errno"/> (<c>EBUSY</c>), or <c>errno N</c>.</summary>
    public static string Of(int errno) => Errno.NameOf(errno) ?? $"errno {errno}";
}
