namespace Vfio.Platform.Dma;

/// <summary>Hands out I/O virtual addresses from the ranges the IOMMU accepts
/// (<c>VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE</c>), first fit, aligned, and takes them back,
/// merging neighbours. Never address 0: a device that writes to IOVA 0 is usually a bug.</summary>
public sealed class IovaAllocator
{
    private readonly List<(ulong Start, ulong End)> _free; // inclusive ends, sorted, disjoint

    /// <summary>Creates an allocator over <paramref name="ranges"/> (inclusive start and end).</summary>
    public IovaAllocator(IEnumerable<(ulong Start, ulong End)> ranges)
    {
        _free = [.. ranges.Select(r => (Math.Max(r.Start, 0x1000UL), r.End)).Where(r => r.Item1 <= r.End).OrderBy(r => r.Item1)];
    }

    /// <summary>Reserves <paramref name="size"/> bytes aligned to <paramref name="alignment"/> (a power of two).</summary>
    /// <exception cref="InvalidOperationException">No free range is large enough.</exception>
    public ulong Allocate(ulong size, ulong alignment)
    {
        if (size == 0 || alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), $"size {size} and alignment {alignment} (a power of two) must be positive");
        }

        for (var i = 0; i < _free.Count; i++)
        {
            var (start, end) = _free[i];
            var aligned = (start + alignment - 1) & ~(alignment - 1);
            if (aligned < start || aligned > end || end - aligned < size - 1)
            {
                continue;
            }

            var last = aligned + size - 1;
            _free.RemoveAt(i);
            if (last < end)
            {
                _free.Insert(i, (last + 1, end));
            }

            if (aligned > start)
            {
                _free.Insert(i, (start, aligned - 1));
            }

            return aligned;
        }

        throw new InvalidOperationException($"no free IOVA range of {size} bytes aligned to {alignment}");
    }

    /// <summary>Returns a range from <see cref="Allocate"/>.</summary>
    public void Free(ulong start, ulong size)
    {
        var end = start + size - 1;
        var i = 0;
        while (i < _free.Count && _free[i].Start < start)
        {
            i++;
        }

        if ((i > 0 && _free[i - 1].End >= start) || (i < _free.Count && _free[i].Start <= end))
        {
            throw new InvalidOperationException($"IOVA 0x{start:x}+0x{size:x} is (partly) free already");
        }

        _free.Insert(i, (start, end));
        if (i + 1 < _free.Count && _free[i + 1].Start == end + 1)
        {
            _free[i] = (start, _free[i + 1].End);
            _free.RemoveAt(i + 1);
        }

        if (i > 0 && _free[i - 1].End + 1 == start)
        {
            _free[i - 1] = (_free[i - 1].Start, _free[i].End);
            _free.RemoveAt(i);
        }
    }

    /// <summary>The free ranges, for diagnostics.</summary>
    public IReadOnlyList<(ulong Start, ulong End)> FreeRanges => _free;
}
