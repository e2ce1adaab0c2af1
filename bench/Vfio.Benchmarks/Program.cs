using BenchmarkDotNet.Running;
using Vfio.Benchmarks;

// dotnet Vfio.Benchmarks.dll                   BenchmarkDotNet (all its usual options: --filter, --job short, --exporters json ...)
// dotnet Vfio.Benchmarks.dll latency [--samples N] [--warmup N] [--out DIR]
// dotnet Vfio.Benchmarks.dll callgrind REPS LIBVGMARK   (under valgrind --tool=callgrind; see ../run)
return args.FirstOrDefault() switch
{
    "latency" => LatencyMode.Run(args[1..]),
    "callgrind" => CallgrindMode.Run(args[1..]),
    _ => Run(args),
};

static int Run(string[] args)
{
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(MmioBenchmarks).Assembly).Run(args);
    return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}
