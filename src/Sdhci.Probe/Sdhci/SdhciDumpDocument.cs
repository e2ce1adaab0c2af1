using System.Globalization;
using System.Text.Json.Serialization;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// A decoded dump: every modelled register with its value and named fields. This is what
/// <c>dump --json</c> writes and what the <c>--decode</c> text is printed from.
/// </summary>
/// <param name="SpecVersion">"3.00" and so on.</param>
/// <param name="VendorVersion">The vendor version byte of the Host Controller Version register.</param>
/// <param name="RegionLength">Size of the register window in bytes.</param>
/// <param name="Health">Whether the controller answers, and what to do if not.</param>
/// <param name="Registers">Standard registers in spec order, then the vendor registers that were read.</param>
/// <example>
/// <code>
/// var document = SdhciDump.Decode(SdhciDump.Read(io));
/// var presentState = document.Registers.Single(r => r.Offset == 0x24);
/// </code>
/// </example>
public sealed record SdhciDumpDocument(
    string SpecVersion,
    int VendorVersion,
    int RegionLength,
    SdhciHealth Health,
    IReadOnlyList<DecodedRegister> Registers);

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

/// <summary>One field of a decoded register, or a quantity derived from several registers.</summary>
/// <param name="Name">The specification's name for the field, or the quantity's name.</param>
/// <param name="Shift">Lowest bit; null for a derived quantity.</param>
/// <param name="Width">Number of bits; null for a derived quantity.</param>
/// <param name="Value">The field's value shifted down to bit 0 (for a derived frequency: Hz).</param>
/// <param name="Meaning">What the value means, in words.</param>
public sealed record DecodedField(string Name, int? Shift, int? Width, ulong Value, string Meaning)
{
    /// <summary>"16" or "15:8"; empty for a derived quantity. Written to JSON, ignored when reading it back.</summary>
    public string Bits => (Shift, Width) switch
    {
        ({ } s, 1) => s.ToString(CultureInfo.InvariantCulture),
        ({ } s, { } w) => string.Create(CultureInfo.InvariantCulture, $"{s + w - 1}:{s}"),
        _ => "",
    };
}

/// <summary>Source-generated System.Text.Json metadata for the dump document, so <c>--json</c> works trimmed and AOT-compiled.</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SdhciDumpDocument))]
public sealed partial class SdhciJsonContext : JsonSerializerContext;
