using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Commands;

/// <summary>DMA memory a command owns for one transfer: <see cref="IDisposable.Dispose"/> unmaps and frees it,
/// which is safe only once the controller's DMA has stopped.</summary>
internal interface IOwnedDmaMemory : IDmaMemory, IDisposable;
