namespace Sdhci.Probe.Sdhci;

/// <summary>
/// What the tool's commands ask of an <see cref="SdhciHost{TBus}"/> without knowing its bus: the controller's
/// capabilities and DMA format, the policies, and a reset. Register accesses stay inside the engine, compiled for its
/// bus; this is for the command layer, one call per command.
/// </summary>
public interface ISdhciHost
{
    /// <summary>The Capabilities register, read when the engine was created.</summary>
    SdhciCapabilities Capabilities { get; }

    /// <summary>The ADMA2 descriptors the engine builds.</summary>
    SdhciAdma2Format Adma2Format { get; }

    /// <summary>Timeouts and policies.</summary>
    SdhciHostOptions Options { get; }

    /// <summary>Resets part or all of the controller and waits for the bits to clear.</summary>
    /// <param name="what">Which resets.</param>
    void Reset(SdhciReset what);

    /// <summary>The DMA memory a transfer of <paramref name="length"/> bytes needs with this host's descriptor format.</summary>
    /// <param name="mode">The transfer mode.</param>
    /// <param name="length">Bytes to move.</param>
    /// <returns>Bytes of DMA memory; 0 for PIO.</returns>
    int RequiredDmaLengthFor(SdhciTransferMode mode, int length);
}
