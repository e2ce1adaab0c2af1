using Vfio.Platform.Mmio;

namespace Vfio.Examples;

/// <summary>A driver written once for any bus: on the device (<see cref="MmioBus"/>) each register access is one
/// load; in a test, the same code runs against a model of the controller bound with
/// <c>RegisterBlock.Over&lt;SdhciBlock, TModel&gt;(model)</c>.</summary>
/// <typeparam name="TBus">Where the registers are.</typeparam>
/// <param name="regs">The bound block.</param>
internal sealed class CardDetect<TBus>(RegisterBlock<SdhciBlock, TBus> regs)
    where TBus : IRegisterBus
{
    /// <summary>Present State's Card Inserted bit.</summary>
    public bool CardPresent => SdhciBlock.CardInserted.Get(regs.Read(SdhciBlock.PresentState));
}
