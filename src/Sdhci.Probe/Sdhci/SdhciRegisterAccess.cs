namespace Sdhci.Probe.Sdhci;

/// <summary>How software may touch a register, which decides whether a dump may read it.</summary>
public enum SdhciRegisterAccess
{
    /// <summary>Read and write.</summary>
    ReadWrite,

    /// <summary>Read only; writes are ignored.</summary>
    ReadOnly,

    /// <summary>Status bits cleared by writing 1 (the interrupt and error status registers).</summary>
    ReadWriteOneToClear,

    /// <summary>Write only; reads return nothing meaningful, so a dump skips them.</summary>
    WriteOnly,

    /// <summary>The buffer data port: a read pops data from the card's FIFO, so a dump never reads it.</summary>
    DataPort,
}
