using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Tests;

/// <summary>
/// A VFIO-like interrupt on top of <see cref="FakeSdController"/>: fires when the line is asserted
/// and not masked, masks itself when it fires (AUTOMASKED), and is unmasked by Acknowledge.
/// </summary>
internal sealed class FakeInterrupt(FakeSdController controller) : ISdhciInterrupt
{
    private bool _masked;

    public int Fired { get; private set; }

    public int Acknowledged { get; private set; }

    public int TimedOut { get; private set; }

    /// <summary>The line is never delivered, as when the interrupt is not wired.</summary>
    public bool Lost { get; set; }

    public bool Wait(TimeSpan timeout)
    {
        if (!Lost && !_masked && controller.LineAsserted)
        {
            _masked = true;
            Fired++;
            controller.Log.Add($"fire:{controller.InterruptStatus:x8}");
            return true;
        }

        TimedOut++;
        Thread.Sleep(timeout < TimeSpan.FromMilliseconds(5) ? timeout : TimeSpan.FromMilliseconds(5));
        return false;
    }

    public void Acknowledge()
    {
        Acknowledged++;
        controller.Log.Add("ack");
        _masked = false;
    }
}
