namespace Sdhci.Probe.Sdhci;

/// <summary>What went wrong, one value per cause a person would act on differently.</summary>
public enum SdhciError
{
    /// <summary>Present State (0x24) says no card is inserted.</summary>
    NoCard,

    /// <summary>The registers read all zeros or all ones: the controller is not answering (clock gated, powered down).</summary>
    ControllerNotResponding,

    /// <summary>A Software Reset bit (0x2F) did not clear in time.</summary>
    ResetTimeout,

    /// <summary>Internal Clock Stable (0x2C bit 1) never came.</summary>
    ClockNotStable,

    /// <summary>The controller has no base clock in its capabilities and none was given.</summary>
    NoBaseClock,

    /// <summary>The controller offers no supply voltage an SD card starts at (3.3 V or 3.0 V).</summary>
    NoUsableVoltage,

    /// <summary>Command Inhibit (CMD or DAT) stayed set: the previous command or transfer never ended.</summary>
    LineBusy,

    /// <summary>The controller raised neither completion nor error in time (no interrupt, or it was lost).</summary>
    Timeout,

    /// <summary>Error status bit 0: the card did not answer the command.</summary>
    CommandTimeout,

    /// <summary>Error status bit 1: the response's CRC was wrong (or the CMD line conflicted).</summary>
    CommandCrc,

    /// <summary>Error status bit 2: the response's end bit was 0.</summary>
    CommandEndBit,

    /// <summary>Error status bit 3: the response carried another command's index.</summary>
    CommandIndex,

    /// <summary>Error status bit 4: data (or the end of busy) did not come in time.</summary>
    DataTimeout,

    /// <summary>Error status bit 5: CRC error in the data.</summary>
    DataCrc,

    /// <summary>Error status bit 6: data end bit error.</summary>
    DataEndBit,

    /// <summary>Error status bit 7: the card drew more current than allowed.</summary>
    CurrentLimit,

    /// <summary>Error status bit 8: the Auto CMD12 failed (details in <see cref="SdhciException.AutoCmdErrorStatus"/>).</summary>
    AutoCommand,

    /// <summary>Error status bit 9: the ADMA engine failed (details in <see cref="SdhciException.AdmaErrorStatus"/>).</summary>
    Adma,

    /// <summary>The card's R1 status reports an error (out of range, illegal command, ...).</summary>
    CardStatus,

    /// <summary>ACMD41 never reported the card ready.</summary>
    CardBusy,

    /// <summary>The card answered in a way this host cannot work with (CMD8 echo, voltage window, no APP_CMD).</summary>
    UnusableCard,

    /// <summary>The controller lacks what was asked for (SDMA, ADMA2, an 8-bit bus).</summary>
    NotSupported,

    /// <summary>A write was refused before any command: the slot's write-protect switch, or the CSD's TMP_WRITE_PROTECT or PERM_WRITE_PROTECT.</summary>
    WriteProtected,

    /// <summary>
    /// The card went away during a command or transfer: the Card Removal interrupt (0x30 bit 7), or Present
    /// State (0x24) Card Inserted (bit 16) read 0 when an error came. Never retried.
    /// </summary>
    CardRemoved,

    /// <summary>The UHS-I signal voltage switch (CMD11, 1.8 V) failed; the card was power-cycled and runs at 3.3 V.</summary>
    VoltageSwitch,

    /// <summary>Sampling clock tuning (Execute Tuning with CMD19) did not converge.</summary>
    Tuning,

    /// <summary>
    /// The device ignored the SD identification (CMD55/ACMD41) but answered CMD1 (SEND_OP_COND): an MMC or eMMC,
    /// which this driver identifies and does not bring up (src/Sdhci.Probe/README.md, "eMMC").
    /// </summary>
    NotAnSdCard,
}
