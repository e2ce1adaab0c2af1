using Vfio.BindGen;

// vfio-bindgen --uapi-include DIR --source "linux-source-6.12 6.12.117-1~deb12u1" [--out DIR]
// Writes src/Vfio.Native/Generated/*.g.cs. tools/bindgen/regenerate runs it with the right inputs.
string? include = null, source = null, output = null;
for (var i = 0; i < args.Length - 1; i += 2)
{
    switch (args[i])
    {
        case "--uapi-include": include = args[i + 1]; break;
        case "--source": source = args[i + 1]; break;
        case "--out": output = args[i + 1]; break;
        default: Console.Error.WriteLine($"vfio-bindgen: unknown option {args[i]}"); return 2;
    }
}

if (include is null || source is null || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: vfio-bindgen --uapi-include DIR --source LABEL [--out DIR]");
    return 2;
}

output ??= Path.Combine(Generator.FindRepositoryRoot(AppContext.BaseDirectory), "src", "Vfio.Native", "Generated");
foreach (var (file, skipped) in Generator.Run(include, source, output))
{
    Console.WriteLine($"wrote {Path.Combine(output, file)}");
    foreach (var reason in skipped)
    {
        Console.WriteLine($"  not bound: {reason}");
    }
}

return 0;
