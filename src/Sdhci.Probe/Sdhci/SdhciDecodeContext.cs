namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The controller state that gives some fields their meaning: the base clock field is 6 or 8 bits
/// depending on the version, a timeout counter means nothing without the timeout clock, and the
/// SD clock follows from the base clock and the divider.
/// </summary>
/// <param name="Version">Host Controller Version register.</param>
/// <param name="Capabilities">Capabilities register, decoded for <paramref name="Version"/>.</param>
/// <example>
/// <code>
/// var context = SdhciDecodeContext.From(0x2402, 0x280737ec6481);
/// var text = SdhciRegisters.CapabilitiesFields.BaseClockFrequency.Describe(0x64, context); // "100 MHz"
/// </code>
/// </example>
public sealed record SdhciDecodeContext(SdhciHostVersion Version, SdhciCapabilities Capabilities)
{
    /// <summary>Builds a context from the raw version and capabilities registers.</summary>
    /// <param name="hostVersion">Register 0xFE.</param>
    /// <param name="capabilities">Registers 0x40 (low half) and 0x44 (high half).</param>
    /// <returns>The context.</returns>
    public static SdhciDecodeContext From(ushort hostVersion, ulong capabilities)
    {
        var version = new SdhciHostVersion(hostVersion);
        return new SdhciDecodeContext(version, new SdhciCapabilities(capabilities, version.SpecVersion));
    }
}
