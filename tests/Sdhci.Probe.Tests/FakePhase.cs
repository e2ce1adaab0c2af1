namespace Sdhci.Probe.Tests;

/// <summary>Where an injected fault strikes.</summary>
public enum FakePhase
{
    /// <summary>The command never reaches the card (it stays in its state); the controller flags the error instead of Command Complete.</summary>
    Command,

    /// <summary>The card runs the command (its state changes, a data command starts sending or receiving) but the response is flagged.</summary>
    Response,

    /// <summary>The command's data phase (PIO, SDMA or ADMA2, read or write) fails before any block moves; a multi-block card stays in data/rcv.</summary>
    Data,

    /// <summary>The auto-CMD12 after the last block: the error bit is Auto CMD Error, the detail goes to 0x3C. A timeout there means the card never got CMD12.</summary>
    AutoCmd12,
}
