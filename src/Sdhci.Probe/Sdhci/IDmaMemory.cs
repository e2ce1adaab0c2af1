namespace Sdhci.Probe.Sdhci;

/// <summary>
/// Memory the controller can reach by DMA: the bytes as the program sees them and the address the
/// controller must be given for their first byte (an IOVA behind an IOMMU).
/// </summary>
/// <remarks>
/// The VFIO side wraps a pinned <c>DmaBuffer</c> and its <c>DmaMapping</c>; tests use a byte array
/// with a made-up address. The engine writes ADMA2 descriptor tables here and has the controller
/// write card data here, so the memory must stay mapped for the whole command.
/// </remarks>
/// <example>
/// <code>
/// sealed class MappedDmaMemory(DmaMapping mapping) : IDmaMemory
/// {
///     public ulong DeviceAddress => mapping.Iova;
///     public Span&lt;byte&gt; Bytes => mapping.Buffer.Span;
/// }
/// byte[] blocks = card.ReadBlocks(0, 16, SdhciTransferMode.Adma2, new MappedDmaMemory(mapping));
/// </code>
/// </example>
public interface IDmaMemory
{
    /// <summary>The bus address of <c>Bytes[0]</c> as the controller sees it (IOVA).</summary>
    ulong DeviceAddress { get; }

    /// <summary>The memory, as the program sees it.</summary>
    Span<byte> Bytes { get; }
}
