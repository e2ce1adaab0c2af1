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
