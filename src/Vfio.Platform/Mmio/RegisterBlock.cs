namespace Vfio.Platform.Mmio;

/// <summary>Binds register blocks over buses other than a mapped region (device models in tests).</summary>
public static class RegisterBlock
{
    /// <summary>Binds <typeparamref name="TBlock"/> over <paramref name="bus"/>, checking once that the bus holds
    /// the block's <see cref="IRegisterBlock.Size"/> bytes. Each named access is then one call to the bus.</summary>
    /// <typeparam name="TBlock">The block.</typeparam>
    /// <typeparam name="TBus">The bus.</typeparam>
    /// <param name="bus">The bus (a device model).</param>
    /// <returns>The bound block.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="bus"/> is null.</exception>
    /// <exception cref="ArgumentException">The bus is smaller than the block (for an <see cref="MmioBus"/>: the block
    /// would reach memory not mapped without a gap from the bus's start).</exception>
    public static RegisterBlock<TBlock, TBus> Over<TBlock, TBus>(TBus bus)
        where TBlock : struct, IRegisterBlock
        where TBus : IRegisterBus
    {
        ArgumentNullException.ThrowIfNull(bus);
        if (bus.Length < TBlock.Size)
        {
            throw new ArgumentException($"The bus has 0x{bus.Length:x} bytes; the {TBlock.Name} block needs 0x{TBlock.Size:x}.", nameof(bus));
        }

        // A mapped bus is reached without checks: the whole block must lie in memory mapped without a gap.
        if (typeof(TBus) == typeof(MmioBus) && ((MmioBus)(object)bus).MappedLength < TBlock.Size)
        {
            throw new ArgumentException(
                $"The {TBlock.Name} block (0x{TBlock.Size:x} bytes) does not lie in mapped memory from offset 0x{((MmioBus)(object)bus).Offset:x}; bind it with MmioRegion.Bind.", nameof(bus));
        }

        return new RegisterBlock<TBlock, TBus>(bus);
    }
}
