using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Tests;

/// <summary>A fake controller and card, the VFIO-like interrupt, the engine and the card state machine, with short timeouts.</summary>
internal sealed class SdRig
{
    public static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(100);

    public SdRig(FakeSdController? fake = null, SdhciHostOptions? hostOptions = null, SdCardOptions? cardOptions = null, bool polling = false)
    {
        Fake = fake ?? FakeSdController.Zcu102();
        Interrupt = new FakeInterrupt(Fake);
        Host = SdhciHost.Create(Fake, polling ? new PollingInterrupt() : Interrupt, hostOptions ?? FastHost());
        Card = SdCard.Create(Host, cardOptions ?? FastCard());
    }

    public FakeSdController Fake { get; }

    public FakeInterrupt Interrupt { get; }

    public SdhciHost<FakeSdController> Host { get; }

    public SdCard<FakeSdController> Card { get; }

    public static SdhciHostOptions FastHost(bool allowWrite = false) => new()
    {
        CommandTimeout = ShortTimeout,
        DataTimeout = ShortTimeout,
        ResetTimeout = ShortTimeout,
        ClockStableTimeout = ShortTimeout,
        PowerUpDelay = TimeSpan.Zero,
        AllowWrite = allowWrite,
    };

    public static SdCardOptions FastCard() => new()
    {
        InitializationTimeout = TimeSpan.FromMilliseconds(150),
        InitializationPollInterval = TimeSpan.FromMilliseconds(1),
    };

    /// <summary>An initialized QEMU-like card on the ZCU102 controller.</summary>
    public static SdRig Initialized(FakeSdController? fake = null, SdhciHostOptions? hostOptions = null, bool polling = false)
    {
        var rig = new SdRig(fake, hostOptions, polling: polling);
        rig.Card.Initialize();
        return rig;
    }
}
