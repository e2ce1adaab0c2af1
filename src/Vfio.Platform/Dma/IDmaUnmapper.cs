namespace Vfio.Platform.Dma;

/// <summary>What a <see cref="DmaMapping"/> calls back to unmap itself.</summary>
internal interface IDmaUnmapper
{
    void UnmapDma(DmaMapping mapping);
}
