namespace Sdhci.Probe.Sdhci;

/// <summary>Which way the data goes.</summary>
public enum SdhciTransferDirection
{
    /// <summary>Card to host.</summary>
    Read,

    /// <summary>Host to card: only with <see cref="SdhciHostOptions.AllowWrite"/>.</summary>
    Write,
}
