using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Vfio.Platform.Mmio;

/// <summary>The check every register declaration makes once: inside its block, aligned to its width.</summary>
/// <remarks>Only integer arithmetic on the way through, and no string in the register: NativeAOT then runs a
/// block's static constructor at build time and folds every register's offset into the instructions (a
/// register that held its name string was not preinitialized: 6 instructions per access instead of 3).
/// Registers' names for dumps live in the driver's description of the block.</remarks>
internal static class RegisterDeclaration
{
    /// <summary>Whether a register of <paramref name="width"/> bytes at <paramref name="offset"/> lies inside a block
    /// of <paramref name="blockSize"/> bytes, aligned to its width. Non-generic and integer-only: NativeAOT's build-time
    /// interpreter runs it (a generic method here kept the block's statics from being preinitialized, measured).</summary>
    public static bool Fits(int blockSize, int offset, int width) =>
        offset >= 0 && offset <= blockSize - width && (offset & (width - 1)) == 0;

    /// <summary>Throws the declaration error; called only when <see cref="Fits"/> is false.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw<TBlock>(int offset, int width)
        where TBlock : struct, IRegisterBlock
    {
        if (offset < 0 || offset > TBlock.Size - width)
        {
            ThrowOutside<TBlock>(offset, width);
        }

        ThrowMisaligned<TBlock>(offset, width);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutside<TBlock>(int offset, int width)
        where TBlock : struct, IRegisterBlock =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset,
            $"A {width * 8}-bit register at 0x{offset:x} is outside the {TBlock.Name} block of 0x{TBlock.Size:x} bytes.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMisaligned<TBlock>(int offset, int width)
        where TBlock : struct, IRegisterBlock =>
        throw new ArgumentOutOfRangeException(nameof(offset), offset,
            $"A {width * 8}-bit register of the {TBlock.Name} block at 0x{offset:x} is not aligned to its {width} bytes.");
}
