namespace Vfio.Platform.Mmio;

/// <summary>A named 64-bit register of the block <typeparamref name="TBlock"/>, with the access kind
/// <typeparamref name="TAccess"/>: declared once (<c>static readonly</c>), checked once when declared to lie
/// inside the block and be aligned to its width, then read and written through a
/// <see cref="RegisterBlock{TBlock, TBus}"/> as one volatile 64-bit load or store at a constant offset.</summary>
/// <typeparam name="TBlock">The block the register belongs to: a register of another block does not compile there.</typeparam>
/// <typeparam name="TAccess">One of <see cref="Access"/>'s kinds: what the compiler lets a caller do with the register.</typeparam>
public readonly struct Register64<TBlock, TAccess>
    where TBlock : struct, IRegisterBlock
    where TAccess : struct, Access.IKind
{
    /// <summary>Declares the register.</summary>
    /// <param name="offset">Byte offset in the block, aligned to 8 byte(s).</param>
    /// <exception cref="ArgumentOutOfRangeException">The register does not lie inside <typeparamref name="TBlock"/>, or is misaligned.</exception>
    public Register64(int offset)
    {
        if (!RegisterDeclaration.Fits(TBlock.Size, offset, 8))
        {
            RegisterDeclaration.Throw<TBlock>(offset, 8);
        }

        Offset = offset;
    }

    /// <summary>Byte offset in the block.</summary>
    public int Offset { get; }

    /// <summary>Width in bytes: 8.</summary>
    public int Width => 8;

    /// <summary>The access kind, for dumps and messages.</summary>
    public RegisterAccessKind Access => TAccess.Kind;

    /// <summary>The register for messages: "BLOCK 0xOFFSET (64-bit)".</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{TBlock.Name} 0x{Offset:x} (64-bit)";
}
