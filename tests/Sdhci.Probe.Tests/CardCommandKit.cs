using System.CommandLine;
using Sdhci.Probe.Commands;

// The tool and its file handling (0600 modes, symlinks) are Linux's.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Sdhci.Probe.Tests;

/// <summary>The card commands' pieces over the fake controller: a context, DMA memory that logs its release, the real command line.</summary>
internal static class CardCommandKit
{
    public const ulong DmaAddress = 0x8000_0000;

    /// <summary>A rig whose commands move at most <paramref name="perCommand"/> blocks, initialized.</summary>
    public static SdRig Rig(int perCommand = 8, bool allowWrite = false, FakeSdController? fake = null)
    {
        var rig = new SdRig(fake, SdRig.FastHost(allowWrite), SdRig.FastCard() with { MaxBlocksPerCommand = perCommand });
        rig.Card.Initialize();
        return rig;
    }

    public static CardContext Context(SdRig rig, Func<int, IOwnedDmaMemory>? dma = null) => Stoppable(rig, dma, CancellationToken.None);

    public static CardContext Stoppable(SdRig rig, Func<int, IOwnedDmaMemory>? dma, CancellationToken stop) =>
        new("fake0", rig.Card, rig.Card.Info!, TimeSpan.Zero, dma, stop);

    /// <summary>Runs the tool's command line (read, write, irq, dump, init) the way Program.cs should: parse errors exit 2.</summary>
    public static int Run(params string[] args) => RunCaptured(args).Code;

    /// <summary><see cref="Run"/>, with what it printed on stderr. Only for tests in the <see cref="ConsoleUsers"/> collection, which runs alone.</summary>
    public static (int Code, string Errors) RunCaptured(params string[] args)
    {
        var root = new RootCommand { CardCommands.CreateInit(), CardCommands.CreateRead(), CardCommands.CreateWrite(), IrqCommand.Create(), DumpCommand.Create() };
        var errors = new StringWriter();
        var original = Console.Error;
        Console.SetError(errors);
        try
        {
            return (CommonOptions.Invoke(root.Parse(args)), errors.ToString());
        }
        finally
        {
            Console.SetError(original);
        }
    }

    /// <summary>A device name no machine has: a command that gets as far as opening it fails with exit 1, touching nothing.</summary>
    public const string NoDevice = "sdhci-probe-test.nonexistent";

    public static string TempDirectory() => Directory.CreateTempSubdirectory("sdhci-probe-test-").FullName;
}
