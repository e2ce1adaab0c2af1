using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Sdhci;

/// <summary>What <see cref="SdCard{TBus}"/> fixes for every card (the block size), and the way to create one
/// without spelling the bus type.</summary>
/// <example>
/// <code>
/// var card = SdCard.Create(SdhciHost.Create(model, new PollingInterrupt()));
/// </code>
/// </example>
public static class SdCard
{
    /// <summary>The block size every transfer uses.</summary>
    public const int BlockSize = 512;

    /// <summary>A card behind <paramref name="host"/>; nothing is sent until <see cref="SdCard{TBus}.Initialize"/>.</summary>
    /// <typeparam name="TBus">Where the controller's registers are.</typeparam>
    /// <param name="host">The command engine.</param>
    /// <param name="options">Policies; defaults when null.</param>
    /// <returns>The card.</returns>
    public static SdCard<TBus> Create<TBus>(SdhciHost<TBus> host, SdCardOptions? options = null)
        where TBus : IRegisterBus => new(host, options);
}
