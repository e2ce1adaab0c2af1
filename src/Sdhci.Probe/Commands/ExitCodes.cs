using System.Runtime.InteropServices;

namespace Sdhci.Probe.Commands;

/// <summary>What sdhci-probe's exit status means, so scripts can tell failures apart.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>A system call, VFIO step, file or card operation failed; the message says which and why.</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong, or asked for something the card or the command cannot do; nothing was written.</summary>
    public const int Usage = 2;

    /// <summary>The controller reads all zeros or all ones (clock gated, not powered).</summary>
    public const int ControllerUnhealthy = 3;

    /// <summary>The device is not ready for VFIO (not bound, no group).</summary>
    public const int NotReady = 4;

    /// <summary>Interrupts were lost or timed out.</summary>
    public const int InterruptsLost = 5;

    /// <summary>Stopped by SIGHUP (the terminal went away), after resetting the controller: 128 + 1.</summary>
    public const int HangUp = 128 + SignalNumbers.SIGHUP;

    /// <summary>Stopped by SIGINT (Ctrl-C), after resetting the controller: 128 + 2, as shells report it.</summary>
    public const int Interrupted = 128 + SignalNumbers.SIGINT;

    /// <summary>Stopped by SIGTERM (kill), after resetting the controller: 128 + 15.</summary>
    public const int Terminated = 128 + SignalNumbers.SIGTERM;

    /// <summary>The status for a stop by <paramref name="signal"/>: 128 + its number, as a shell reports a process the signal killed.</summary>
    public static int ForSignal(PosixSignal signal) => 128 + SignalNumbers.Of(signal);
}
