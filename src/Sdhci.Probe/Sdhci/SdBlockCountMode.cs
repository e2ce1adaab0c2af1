namespace Sdhci.Probe.Sdhci;

/// <summary>How the card learns where a multi-block read (CMD18) or write (CMD25) ends.</summary>
public enum SdBlockCountMode
{
    /// <summary><see cref="Cmd23"/> when the card's SCR lists CMD23 (CMD_SUPPORT bit 1), else <see cref="AutoCmd12"/>.</summary>
    Auto,

    /// <summary>Open-ended: the controller sends CMD12 (STOP_TRANSMISSION) after the last block (Transfer Mode bit 2, Auto CMD12).</summary>
    AutoCmd12,

    /// <summary>
    /// Pre-defined: CMD23 (SET_BLOCK_COUNT) with the count before the data command, so the card stops
    /// by itself and no CMD12 follows. Cards of physical layer 3.00 and later that list CMD23 in their SCR.
    /// </summary>
    Cmd23,
}
