namespace Sdhci.Probe.Sdhci;

/// <summary>Whether a controller's registers look like a live controller.</summary>
public enum SdhciHealthStatus
{
    /// <summary>The registers hold plausible values.</summary>
    Ok,

    /// <summary>Every register reads 0, capabilities and version included.</summary>
    AllZeros,

    /// <summary>Every register reads all ones.</summary>
    AllOnes,
}
