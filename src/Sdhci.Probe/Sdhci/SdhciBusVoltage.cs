namespace Sdhci.Probe.Sdhci;

/// <summary>The SD bus supply voltage, with the Power Control register's (0x29) select codes as values.</summary>
public enum SdhciBusVoltage
{
    /// <summary>Bus power off.</summary>
    Off = 0,

    /// <summary>1.8 V.</summary>
    V18 = 5,

    /// <summary>3.0 V.</summary>
    V30 = 6,

    /// <summary>3.3 V.</summary>
    V33 = 7,
}
