namespace Sdhci.Probe.Sdhci;

/// <summary>The Software Reset register's (0x2F) three resets.</summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1028:Enum storage should be Int32", Justification = "Mirrors the 8-bit register.")]
public enum SdhciReset : byte
{
    /// <summary>The whole controller except card detection: registers to their defaults, power and clock off.</summary>
    All = 1,

    /// <summary>The command state machine, after a command error.</summary>
    CommandLine = 2,

    /// <summary>The data path, buffer and DMA, after a data error.</summary>
    DataLine = 4,
}
