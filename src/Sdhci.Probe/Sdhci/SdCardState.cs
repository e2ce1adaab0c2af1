namespace Sdhci.Probe.Sdhci;

/// <summary>The card's state machine, card status bits 12:9.</summary>
public enum SdCardState
{
    /// <summary>After CMD0.</summary>
    Idle = 0,

    /// <summary>After ACMD41 reported ready.</summary>
    Ready = 1,

    /// <summary>After CMD2.</summary>
    Identification = 2,

    /// <summary>After CMD3, or deselected.</summary>
    Standby = 3,

    /// <summary>Selected (CMD7), waiting for a data command.</summary>
    Transfer = 4,

    /// <summary>Sending data.</summary>
    SendingData = 5,

    /// <summary>Receiving data.</summary>
    ReceivingData = 6,

    /// <summary>Writing received data to flash.</summary>
    Programming = 7,

    /// <summary>Deselected while programming.</summary>
    Disconnect = 8,
}
