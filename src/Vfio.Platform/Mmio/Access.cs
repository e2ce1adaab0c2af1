using System.Diagnostics.CodeAnalysis;

namespace Vfio.Platform.Mmio;

/// <summary>
/// The access kinds of a register, as type arguments of <see cref="Register32{TBlock, TAccess}"/> and
/// the other widths: the compiler then refuses what a kind does not allow (a write of a
/// <see cref="ReadOnly"/> register, a read of a <see cref="WriteOnly"/> one, a read-modify-write of
/// anything but <see cref="ReadWrite"/>, a repeated access of anything but a <see cref="DataPort"/>),
/// at no run-time cost: the kinds are empty structs.
/// </summary>
public static class Access
{
    /// <summary>An access kind: what every kind tells at run time.</summary>
    public interface IKind
    {
        /// <summary>The kind, for dumps and messages.</summary>
        static abstract RegisterAccessKind Kind { get; }
    }

    /// <summary>A kind whose registers may be read.</summary>
    public interface IReadable : IKind;

    /// <summary>A kind whose registers may be written.</summary>
    public interface IWritable : IKind;

    /// <summary>Read, written and read-modify-written (<see cref="RegisterAccessKind.ReadWrite"/>).</summary>
    public readonly struct ReadWrite : IReadable, IWritable
    {
        /// <inheritdoc/>
        public static RegisterAccessKind Kind => RegisterAccessKind.ReadWrite;
    }

    /// <summary>Read only (<see cref="RegisterAccessKind.ReadOnly"/>).</summary>
    [SuppressMessage("Naming", "CA1716", Justification = "The register kind's name in every datasheet; VB callers write [ReadOnly].")]
    public readonly struct ReadOnly : IReadable
    {
        /// <inheritdoc/>
        public static RegisterAccessKind Kind => RegisterAccessKind.ReadOnly;
    }

    /// <summary>Write only (<see cref="RegisterAccessKind.WriteOnly"/>).</summary>
    [SuppressMessage("Naming", "CA1716", Justification = "The register kind's name in every datasheet; VB callers write [WriteOnly].")]
    public readonly struct WriteOnly : IWritable
    {
        /// <inheritdoc/>
        public static RegisterAccessKind Kind => RegisterAccessKind.WriteOnly;
    }

    /// <summary>Write 1 to clear (<see cref="RegisterAccessKind.WriteOneToClear"/>): read and written, never
    /// read-modify-written.</summary>
    public readonly struct WriteOneToClear : IReadable, IWritable
    {
        /// <inheritdoc/>
        public static RegisterAccessKind Kind => RegisterAccessKind.WriteOneToClear;
    }

    /// <summary>A data port (<see cref="RegisterAccessKind.DataPort"/>): read and written, also repeatedly,
    /// never read-modify-written.</summary>
    public readonly struct DataPort : IReadable, IWritable
    {
        /// <inheritdoc/>
        public static RegisterAccessKind Kind => RegisterAccessKind.DataPort;
    }
}
