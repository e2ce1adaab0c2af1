using System.Runtime.CompilerServices;
using Vfio.Platform.Mmio;

namespace Vfio.Benchmarks;

/// <summary>The register block of the named-register loops: SDHCI-like offsets, the same numbers as the
/// <c>#define</c>s of <c>named_*</c> in ../baseline/baseline.c.</summary>
public readonly struct BenchBlock : IRegisterBlock
{
    public static string Name => "bench";

    public static int Size => 0x100;

    /// <summary>baseline.c: <c>STATUS 0x30</c>.</summary>
    public static readonly Register32<BenchBlock, Access.ReadWrite> Status = new(0x30);

    /// <summary>baseline.c: <c>CONTROL 0x3C</c>.</summary>
    public static readonly Register32<BenchBlock, Access.ReadWrite> Control = new(0x3C);

    /// <summary>baseline.c: <c>MODE_SHIFT 16</c>, <c>MODE_MASK (7u &lt;&lt; 16)</c>.</summary>
    public static readonly BitField<BenchMode> Mode = new(16, 3);
}

/// <summary>The field values of <see cref="BenchBlock.Mode"/>; baseline.c: <c>MODE_SDR50 2</c>.</summary>
public enum BenchMode : uint
{
    Sdr12 = 0,
    Sdr25 = 1,
    Sdr50 = 2,
}

/// <summary>The named-register loops: what a driver does with a bound <see cref="RegisterBlock{TBlock, TBus}"/>,
/// <see cref="MmioLoops.Accesses"/> times, exactly like <c>named_*</c> in ../baseline/baseline.c with
/// <c>#define</c>d offsets. The block comes in as a parameter, as C's base pointer does.</summary>
public static class NamedLoops
{
    /// <summary>Reads Status and adds it up: C <c>sum += *(volatile uint32_t *)(p + STATUS)</c>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint Read32(RegisterBlock<BenchBlock, MmioBus> regs)
    {
        uint sum = 0;
        for (var i = 0; i < MmioLoops.Accesses; i++)
        {
            sum += regs.Read(BenchBlock.Status);
        }

        return sum;
    }

    /// <summary>Writes the counter to Control: C <c>*(volatile uint32_t *)(p + CONTROL) = i</c>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Write32(RegisterBlock<BenchBlock, MmioBus> regs)
    {
        for (var i = 0; i < MmioLoops.Accesses; i++)
        {
            regs.Write(BenchBlock.Control, (uint)i);
        }
    }

    /// <summary>Sets the Mode field of Control to SDR50 (read, mask, or, write): C
    /// <c>v = *ctl; *ctl = (v &amp; ~MODE_MASK) | (MODE_SDR50 &lt;&lt; MODE_SHIFT)</c>. Per loop turn: two accesses.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Modify32(RegisterBlock<BenchBlock, MmioBus> regs)
    {
        for (var i = 0; i < MmioLoops.Accesses; i++)
        {
            regs.Modify(BenchBlock.Control, BenchBlock.Mode, BenchMode.Sdr50);
        }
    }
}
