namespace Sdhci.Probe.Commands;

/// <summary>What sdhci-probe's exit status means, so scripts can tell failures apart.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>A system call or VFIO step failed; the message says which and why.</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong.</summary>
    public const int Usage = 2;

    /// <summary>The controller reads all zeros or all ones (clock gated, not powered).</summary>
    public const int ControllerUnhealthy = 3;

    /// <summary>The device is not ready for VFIO (not bound, no group).</summary>
    public const int NotReady = 4;

    /// <summary>Interrupts were lost or timed out.</summary>
    public const int InterruptsLost = 5;

    /// <summary>Stopped by SIGINT/SIGTERM (Ctrl-C), after resetting the controller: 128 + SIGINT, as shells report it.</summary>
    public const int Interrupted = 130;
}
