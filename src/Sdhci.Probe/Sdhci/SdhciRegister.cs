using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// One controller register: offset, width, access and its fields. Instances live in
/// <see cref="SdhciRegisters"/> and <see cref="ArasanRegisters"/>; nothing else spells an offset.
/// </summary>
/// <example>
/// <code>
/// var reg = SdhciRegisters.ClockControl;                 // 0x2C, 16 bits
/// ulong raw = io.Read(reg);
/// foreach (var field in reg.Fields)
///     Console.WriteLine($"{field.Name} = {field.Extract(raw)}");
/// </code>
/// </example>
public sealed class SdhciRegister
{
    internal SdhciRegister(
        int offset,
        int width,
        string name,
        string? kernelName,
        SdhciRegisterAccess access,
        SdhciRegisterBlock block,
        IReadOnlyList<SdhciField> fields,
        bool listSetFlags = false)
    {
        if (width is not (1 or 2 or 4 or 8))
            throw new ArgumentOutOfRangeException(nameof(width), width, "A register is 1, 2, 4 or 8 bytes wide.");
        if (offset % Math.Min(width, 4) != 0)
            throw new ArgumentException($"Register {name} at 0x{offset:x} is not aligned to its width.", nameof(offset));
        Offset = offset;
        Width = width;
        Name = name;
        KernelName = kernelName;
        Access = access;
        Block = block;
        Fields = fields;
        ListSetFlags = listSetFlags;
    }

    internal SdhciRegister(
        int offset,
        int width,
        string name,
        string? kernelName,
        RegisterAccessKind access,
        SdhciRegisterBlock block,
        IReadOnlyList<SdhciField> fields,
        bool listSetFlags = false)
        : this(offset, width, name, kernelName, AccessOf(access), block, fields, listSetFlags)
    {
    }

    /// <summary>Byte offset from the start of the controller's register window.</summary>
    public int Offset { get; }

    /// <summary>Width in bytes: 1, 2, 4, or 8 for the two registers read as two 32-bit halves (capabilities, ADMA address).</summary>
    public int Width { get; }

    /// <summary>The name the specification (or the vendor) gives the register.</summary>
    public string Name { get; }

    /// <summary>The Linux kernel's macro for the offset (<c>SDHCI_PRESENT_STATE</c>), to search a kernel tree with; null where it has none.</summary>
    public string? KernelName { get; }

    /// <summary>Read/write behaviour.</summary>
    public SdhciRegisterAccess Access { get; }

    /// <summary>Standard block or a vendor addition.</summary>
    public SdhciRegisterBlock Block { get; }

    /// <summary>The register's fields, lowest bit first; empty for registers that hold one plain value (addresses, arguments).</summary>
    public IReadOnlyList<SdhciField> Fields { get; }

    /// <summary>Whether a reading is useful at all: false for write-only registers and the data port.</summary>
    public bool IsReadable => Access is not (SdhciRegisterAccess.WriteOnly or SdhciRegisterAccess.DataPort);

    /// <summary>The value every bit set reads as: what a controller that is not answering returns.</summary>
    public ulong AllOnes => Width == 8 ? ulong.MaxValue : (1UL << (Width * 8)) - 1;

    /// <summary>Interrupt-style registers, whose text decode lists the set bits by name instead of one line per bit.</summary>
    internal bool ListSetFlags { get; }

    private static SdhciRegisterAccess AccessOf(RegisterAccessKind kind) => kind switch
    {
        RegisterAccessKind.ReadOnly => SdhciRegisterAccess.ReadOnly,
        RegisterAccessKind.WriteOnly => SdhciRegisterAccess.WriteOnly,
        RegisterAccessKind.WriteOneToClear => SdhciRegisterAccess.ReadWriteOneToClear,
        RegisterAccessKind.DataPort => SdhciRegisterAccess.DataPort,
        _ => SdhciRegisterAccess.ReadWrite,
    };

    /// <inheritdoc />
    public override string ToString() => $"{Name} (0x{Offset:x2}, {Width * 8}-bit)";
}
