namespace Vfio.Platform.Mmio;

/// <summary>
/// A device's register block, declared once as a <c>struct</c>: its name and its size in bytes. The
/// registers of the block (<see cref="Register32{TBlock, TAccess}"/> and the other widths) are declared
/// against it, and each is checked to lie inside it when declared; <see cref="MmioRegion.Bind{TBlock}"/>
/// checks once that the block lies in mapped memory. After that a named register access is one volatile
/// load or store: the register's offset is a constant the JIT folds into the instruction (the registers
/// are <c>static readonly</c>), and the block's base address is the only variable.
/// </summary>
/// <remarks>Implement it with a <c>struct</c> (the constraint on the register types says so): the JIT
/// compiles generic code once per struct type argument, which is what makes <see cref="Size"/> and the
/// offsets constants; a class type argument would share one slower compilation for all blocks.</remarks>
/// <example>
/// <code>
/// readonly struct Sdhci : IRegisterBlock
/// {
///     public static string Name => "SDHCI";
///     public static int Size => 0x100;
///     public static readonly Register32&lt;Sdhci, Access.WriteOneToClear&gt; InterruptStatus = new(0x30);
///     public static readonly Register16&lt;Sdhci, Access.ReadWrite&gt; HostControl2 = new(0x3E);
/// }
/// </code>
/// </example>
public interface IRegisterBlock
{
    /// <summary>The block's name, for messages and dumps ("SDHCI").</summary>
    static abstract string Name { get; }

    /// <summary>The block's size in bytes: every register lies in <c>0 .. Size - 1</c>, and a region (or
    /// the part of it the block is bound at) must hold this many mapped bytes.</summary>
    static abstract int Size { get; }
}
