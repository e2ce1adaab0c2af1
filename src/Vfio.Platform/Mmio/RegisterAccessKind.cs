namespace Vfio.Platform.Mmio;

/// <summary>How a register may be accessed: the run-time name of a register's <see cref="Access"/> type
/// argument, for dumps and messages (a dump reads only <see cref="ReadWrite"/>, <see cref="ReadOnly"/>
/// and <see cref="WriteOneToClear"/> registers: reading a data port consumes data).</summary>
public enum RegisterAccessKind
{
    /// <summary>Read and written; read-modify-write is allowed.</summary>
    ReadWrite,

    /// <summary>Read only; a write is refused at compile time.</summary>
    ReadOnly,

    /// <summary>Write only (a command or a doorbell); a read is refused at compile time.</summary>
    WriteOnly,

    /// <summary>A status register whose bits are cleared by writing 1 to them. Read and written, but never
    /// read-modify-written: writing back what was read would clear every pending bit, not only the one meant.</summary>
    WriteOneToClear,

    /// <summary>A data port (a FIFO behind one address): each access moves data, so it is read and written
    /// (also many times in a row) but never read-modify-written, and a dump does not read it.</summary>
    DataPort,
}
