using System.Runtime.InteropServices;

namespace Sdhci.Probe.Commands;

/// <summary>
/// SIGINT, SIGTERM and SIGHUP while a command runs: none ends the process; each cancels <see cref="Token"/>,
/// which the command checks at its safe points (between card commands, between interrupts), then it
/// cleans up (controller reset, DMA stopped, --bind undone, a partial file removed) and exits
/// <see cref="ExitCode"/>, 128 + the signal's number.
/// </summary>
internal sealed class SignalScope : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration[] _registrations;
    private PosixSignal? _signal;

    /// <summary>Takes the three signals (<paramref name="register"/> false: takes none, for tests that call <see cref="Raise"/>).</summary>
    public SignalScope(bool register = true)
    {
        _registrations = register
            ? [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
               PosixSignalRegistration.Create(PosixSignal.SIGHUP, Handle)]
            : [];
    }

    /// <summary>Cancelled by the first of the signals.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>Whether a signal came.</summary>
    public bool Stopped => _stop.IsCancellationRequested;

    /// <summary>The first signal that came, or null.</summary>
    public PosixSignal? Signal
    {
        get
        {
            lock (_stop)
                return _signal;
        }
    }

    /// <summary>128 + the first signal's number; <see cref="ExitCodes.Interrupted"/> if none came.</summary>
    public int ExitCode => Signal is { } signal ? ExitCodes.ForSignal(signal) : ExitCodes.Interrupted;

    /// <summary>"SIGTERM, exit 143", for the message.</summary>
    public string Describe() => $"{Signal?.ToString() ?? "SIGINT"}, exit {ExitCode}";

    /// <summary>What the handler does: remember the first signal, cancel the token.</summary>
    public void Raise(PosixSignal signal)
    {
        lock (_stop)
            _signal ??= signal;
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // A signal that races the end of the command: there is nothing left to stop.
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
        _stop.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // no default termination: unwind and clean up
        Raise(context.Signal);
    }
}
