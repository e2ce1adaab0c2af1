using System.Diagnostics;

namespace Vfio.TestSupport;

/// <summary>Paths of the repository and the inputs its tests share.</summary>
public static class Repository
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Vfio.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("no Vfio.sln above the test binaries");
    });

    private static readonly Lazy<string?> UapiLazy = new(() =>
    {
        if (Environment.GetEnvironmentVariable("VFIO_NET_UAPI_INCLUDE") is { Length: > 0 } given)
        {
            return given;
        }

        if (!File.Exists("/usr/src/linux-source-6.12.tar.xz"))
        {
            return null;
        }

        var result = Run(Path.Combine(Root, "tools", "uapi", "install-headers"), []);
        return result.ExitCode == 0 ? result.Stdout.Trim() : throw new InvalidOperationException($"install-headers failed:\n{result.Stderr}");
    });

    /// <summary>The repository root (the folder of Vfio.sln).</summary>
    public static string Root => RootLazy.Value;

    /// <summary>The uapi include folder of linux-source-6.12 that the bindings were generated from,
    /// installed on first use by tools/uapi/install-headers; null when linux-source-6.12 is absent.</summary>
    public static string? UapiInclude => UapiLazy.Value;

    /// <summary>True when <paramref name="program"/> is on PATH.</summary>
    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, program)));

    /// <summary>Runs a program to completion and returns its exit code and output.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string program, IEnumerable<string> arguments, string? stdin = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            WorkingDirectory = workingDirectory ?? Root,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }
}
