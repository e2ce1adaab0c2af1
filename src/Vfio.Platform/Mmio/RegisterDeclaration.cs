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
    public static int Check<TBlock>(int offset, int width)
        where TBlock : struct, IRegisterBlock
    {
        if (offset < 0 || offset > TBlock.Size - width)
        {
            ThrowOutside<TBlock>(offset, width);
        }

        if ((offset & (width - 1)) != 0)
        {
            ThrowMisaligned<TBlock>(offset, width);
        }

        return offset;
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
