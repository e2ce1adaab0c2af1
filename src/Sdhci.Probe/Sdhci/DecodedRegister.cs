using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>One register of a decoded dump.</summary>
/// <param name="Block">Standard block or vendor addition.</param>
/// <param name="Offset">Byte offset in the register window.</param>
/// <param name="Width">Width in bytes.</param>
/// <param name="Name">The specification's name.</param>
/// <param name="KernelName">The Linux kernel's macro for the offset, if any.</param>
/// <param name="Access">Read/write behaviour.</param>
/// <param name="Value">The value read; null for registers a dump must not read (data port, write-only).</param>
/// <param name="Fields">The fields with their values and meanings, then derived quantities (no bit position); empty when not read.</param>
/// <param name="Note">Why the register was not read, if it was not.</param>
public sealed record DecodedRegister(
    SdhciRegisterBlock Block,
    int Offset,
    int Width,
    string Name,
    string? KernelName,
    SdhciRegisterAccess Access,
    ulong? Value,
    IReadOnlyList<DecodedField> Fields,
    string? Note)
{
    /// <summary>The value in hex, zero-padded to the register's width (<c>0x0200</c>), or null when not read. Written to JSON for people comparing with devmem; ignored when reading it back.</summary>
    public string? Hex => Value is { } v
        ? "0x" + v.ToString("x" + (Width * 2).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
        : null;
}
