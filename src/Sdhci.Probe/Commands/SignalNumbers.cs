using System.Runtime.InteropServices;

namespace Sdhci.Probe.Commands;

/// <summary>Linux's signal numbers (the same on x86_64 and arm64): .NET's <see cref="PosixSignal"/> values are its own, not these.</summary>
internal static class SignalNumbers
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGTERM = 15;

    public static int Of(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => SIGHUP,
        PosixSignal.SIGINT => SIGINT,
        PosixSignal.SIGTERM => SIGTERM,
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "sdhci-probe handles SIGHUP, SIGINT and SIGTERM only."),
    };
}
