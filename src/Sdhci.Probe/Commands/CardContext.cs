using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Commands;

/// <summary>What a card command's body works with: the device's name, the card brought up, how long that took,
/// where DMA memory comes from (null: PIO only), and the token the signals cancel.</summary>
internal sealed record CardContext(string Device, ISdCard Card, SdCardInfo Info, TimeSpan BringUp, Func<int, IOwnedDmaMemory>? AllocateDma, CancellationToken Stop);
