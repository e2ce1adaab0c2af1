using BenchmarkDotNet.Attributes;
using Vfio.Platform.Mmio;

namespace Vfio.Benchmarks;

/// <summary>Named registers through a bound <see cref="RegisterBlock{TBlock}"/> on a memfd mapping:
/// <see cref="NamedLoops"/>, 1024 loop turns per invocation so the figures are per turn (one access for
/// Read32/Write32, a read and a write for Modify32). C: <c>named_*</c> in ../baseline/baseline.c.</summary>
[MemoryDiagnoser]
[DisassemblyDiagnoser(maxDepth: 3, printSource: true, exportGithubMarkdown: true)]
public class RegisterBlockBenchmarks
{
    private MmioRegion _region = null!;
    private RegisterBlock<BenchBlock, MmioBus> _regs;

    [GlobalSetup]
    public void Setup()
    {
        _region = MmioRegion.CreateShared(MmioLoops.RegionBytes, mapped: true);
        _regs = _region.Bind<BenchBlock>();
    }

    [GlobalCleanup]
    public void Cleanup() => _region.Dispose();

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public uint Read32() => NamedLoops.Read32(_regs);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void Write32() => NamedLoops.Write32(_regs);

    [Benchmark(OperationsPerInvoke = MmioLoops.Accesses)]
    public void Modify32() => NamedLoops.Modify32(_regs);
}
