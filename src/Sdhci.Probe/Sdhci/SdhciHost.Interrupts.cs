using System.Diagnostics;
using static Sdhci.Probe.Sdhci.SdhciHost;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Sdhci;

/// <content>Interrupt servicing: what is enabled, waiting for a status bit, and clearing what came.</content>
public sealed partial class SdhciHost<TBus>
{
    private const I NotClearable = I.CardInterrupt | I.ErrorInterrupt;


    /// <summary>
    /// Enables the status and signal of <see cref="HandledInterrupts"/> (0x34 and 0x38, 32 bits each, as
    /// the kernel writes them) and clears anything already latched.
    /// </summary>
    public void EnableInterrupts()
    {
        _regs.Write(S.InterruptStatusEnable, (uint)HandledInterrupts);
        _regs.Write(S.InterruptSignalEnable, (uint)HandledInterrupts);
        _regs.Write(S.InterruptStatus, ~(uint)NotClearable);
        _latched = I.None;
    }

    /// <summary>Waits until one of <paramref name="wanted"/> has been seen, servicing every interrupt on the way.</summary>
    private I WaitFor(Context context, I wanted, TimeSpan timeout, string what)
    {
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            ThrowOnError(context);
            if (TakeLatched(wanted) is var got and not I.None)
                return got;

            var remaining = timeout - Stopwatch.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                // A lost interrupt costs time, not the command: look at the status once more.
                Service(fired: false);
                ThrowOnError(context);
                if (TakeLatched(wanted) is var late and not I.None)
                    return late;

                var present = _regs.Read(S.PresentState);
                throw new SdhciException(SdhciError.Timeout,
                    $"{context}: no {what} within {Format(timeout)} (interrupt status seen 0x{(uint)_latched:x8}, Present State 0x{present:x8}). " +
                    "The controller raised no interrupt for it: check that the interrupt is wired and unmasked, or try polling (--poll).",
                    context.Index, context.Application, _latched);
            }

            if (_interrupt.Wait(remaining))
                Service(fired: true);
        }
    }

    /// <summary>The bits of <paramref name="wanted"/> seen so far, forgotten once taken; <see cref="I.None"/> when none.</summary>
    private I TakeLatched(I wanted)
    {
        var got = _latched & wanted;
        _latched &= ~got;
        return got;
    }

    /// <summary>Reads the status, clears what is set, and only then re-arms the interrupt.</summary>
    private void Service(bool fired)
    {
        var status = _regs.Read(S.InterruptStatus);
        if (status == uint.MaxValue)
        {
            if (fired)
                _interrupt.Acknowledge();
            throw new SdhciException(SdhciError.ControllerNotResponding,
                "The interrupt status reads 0xffffffff: the controller stopped answering (powered down, clock gated, or removed). " + SdhciHealth.DeadControllerAdvice);
        }

        var clear = ClearStatus(status);
        if (fired)
            _interrupt.Acknowledge();
        _latched |= (I)clear;
    }

    /// <summary>Writes the set bits of <paramref name="status"/> back to 0x30 (write 1 to clear), all but the two that cannot be cleared there.</summary>
    /// <returns>The bits cleared.</returns>
    private uint ClearStatus(uint status)
    {
        var clear = status & ~(uint)NotClearable;
        if (clear != 0)
            _regs.Write(S.InterruptStatus, clear);
        return clear;
    }
}
