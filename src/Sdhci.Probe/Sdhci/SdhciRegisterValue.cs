namespace Sdhci.Probe.Sdhci;

/// <summary>One register and the value read from it.</summary>
/// <param name="Register">The register.</param>
/// <param name="Value">Its value, zero-extended.</param>
public readonly record struct SdhciRegisterValue(SdhciRegister Register, ulong Value);
