using BenchmarkDotNet.Attributes;
using Vfio.Platform.Mmio;

namespace Vfio.Benchmarks;

/// <summary>MMIO accessors of <see cref="MmioRegion"/> on a memfd mapping (the same code path as a
/// mapped device region), 1024 accesses per invocation so the figures are per access. The Raw*
/// benchmarks do the same loops through a bare pointer (no checks), to split the cost; the Span* ones
/// through <see cref="MmioRegion.Span{T}"/> (checked once per loop), the View* ones through an
/// <see cref="MmioView"/> taken once per loop.</summary>
[MemoryDiagnoser]
[DisassemblyDiagnoser(maxDepth: 3, printSource: true, exportGithubMarkdown: true)]
public unsafe class MmioBenchmarks
{
    private MmioRegion _region = null!;
    private SharedMapping _raw = null!;

    [GlobalSetup]
    public void Setup()
    {
        _region = MmioRegion.CreateShared(MmioLoops.RegionBytes, mapped: true);
        if (!_region.IsMapped)
        {
            throw new InvalidOperationException("The benchmark region is not mapped.");
        }

        _raw = new SharedMapping(MmioLoops.RegionBytes);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _region.Dispose();
        _raw.Dispose();
    }

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint Read8() => MmioLoops.Read8(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint Read16() => MmioLoops.Read16(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint Read32() => MmioLoops.Read32(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public ulong Read64() => MmioLoops.Read64(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void Write8() => MmioLoops.Write8(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void Write16() => MmioLoops.Write16(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void Write32() => MmioLoops.Write32(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void Write64() => MmioLoops.Write64(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint RawRead8() => MmioLoops.RawRead8(_raw.Base);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint RawRead16() => MmioLoops.RawRead16(_raw.Base);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint RawRead32() => MmioLoops.RawRead32(_raw.Base);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public ulong RawRead64() => MmioLoops.RawRead64(_raw.Base);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void RawWrite8() => MmioLoops.RawWrite8(_raw.Base);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void RawWrite16() => MmioLoops.RawWrite16(_raw.Base);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void RawWrite32() => MmioLoops.RawWrite32(_raw.Base);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void RawWrite64() => MmioLoops.RawWrite64(_raw.Base);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint SpanRead8() => MmioLoops.SpanRead8(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint SpanRead16() => MmioLoops.SpanRead16(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint SpanRead32() => MmioLoops.SpanRead32(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public ulong SpanRead64() => MmioLoops.SpanRead64(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void SpanWrite8() => MmioLoops.SpanWrite8(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void SpanWrite16() => MmioLoops.SpanWrite16(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void SpanWrite32() => MmioLoops.SpanWrite32(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void SpanWrite64() => MmioLoops.SpanWrite64(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint ViewRead8() => MmioLoops.ViewRead8(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint ViewRead16() => MmioLoops.ViewRead16(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint ViewRead32() => MmioLoops.ViewRead32(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public ulong ViewRead64() => MmioLoops.ViewRead64(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void ViewWrite8() => MmioLoops.ViewWrite8(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void ViewWrite16() => MmioLoops.ViewWrite16(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void ViewWrite32() => MmioLoops.ViewWrite32(_region);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void ViewWrite64() => MmioLoops.ViewWrite64(_region);
}
