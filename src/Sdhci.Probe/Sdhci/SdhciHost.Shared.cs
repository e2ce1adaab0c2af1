using System.Globalization;
using Vfio.Platform.Mmio;
using I = Sdhci.Probe.Sdhci.SdhciInterrupt;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// What <see cref="SdhciHost{TBus}"/> fixes for every controller and bus (descriptor formats and sizes, DMA memory
/// layout, the interrupts it handles, limits), and the way to create one over a model of the controller.
/// </summary>
/// <example>
/// <code>
/// var host = SdhciHost.Create(model, new PollingInterrupt());   // a test's model of the controller
/// int bytes = SdhciHost.RequiredDmaLength(SdhciTransferMode.Adma2, 64 * 512);
/// </code>
/// </example>
public static class SdhciHost
{
    /// <summary>An engine over <paramref name="bus"/> (a model of the controller, or an <see cref="MmioBus"/>),
    /// with the standard register block bound over it.</summary>
    /// <typeparam name="TBus">The bus.</typeparam>
    /// <param name="bus">Where the registers are; at least the 0x100-byte standard block.</param>
    /// <param name="interrupt">The controller's interrupt, or a <see cref="PollingInterrupt"/>.</param>
    /// <param name="options">Timeouts and policies; defaults when null.</param>
    /// <returns>The engine; it has read the version and capabilities and written nothing.</returns>
    /// <exception cref="ArgumentException">The bus is smaller than the standard block.</exception>
    public static SdhciHost<TBus> Create<TBus>(TBus bus, ISdhciInterrupt interrupt, SdhciHostOptions? options = null)
        where TBus : IRegisterBus =>
        new(RegisterBlock.Over<SdhciBlock, TBus>(bus), interrupt, options);

    /// <summary>Bytes one ADMA2 descriptor moves at most here (the field allows 65535; a power of two keeps blocks whole).</summary>
    public const int MaxAdma2DescriptorLength = 32 * 1024;

    /// <summary>Size of one 32-bit ADMA2 descriptor: attribute (16 bits), length (16), address (32).</summary>
    public const int Adma2DescriptorSize = 8;

    /// <summary>Size of one 96-bit ADMA2 descriptor (64-bit addressing, version 3 mode): attribute, length, address (64 bits).</summary>
    public const int Adma2Descriptor96Size = 12;

    /// <summary>Size of one 128-bit ADMA2 descriptor (64-bit addressing, version 4 mode): the 96-bit one and 32 reserved bits.</summary>
    public const int Adma2Descriptor128Size = 16;

    /// <summary>The size of one descriptor of <paramref name="format"/>.</summary>
    /// <param name="format">The format.</param>
    /// <returns>8, 12 or 16.</returns>
    public static int DescriptorLength(SdhciAdma2Format format) => format switch
    {
        SdhciAdma2Format.Address64 => Adma2Descriptor96Size,
        SdhciAdma2Format.Address64V4 => Adma2Descriptor128Size,
        _ => Adma2DescriptorSize,
    };

    /// <summary>How reports name <paramref name="format"/>: "32-bit", "64-bit", "64-bit (v4)".</summary>
    /// <param name="format">The format.</param>
    /// <returns>The name.</returns>
    public static string Describe(SdhciAdma2Format format) => format switch
    {
        SdhciAdma2Format.Address64 => "64-bit",
        SdhciAdma2Format.Address64V4 => "64-bit (v4)",
        _ => "32-bit",
    };

    private const int DmaDataAlignment = 4096;

    /// <summary>The bytes of DMA memory an ADMA2 transfer puts before the data (the descriptor table, page aligned); 0 for SDMA and PIO.</summary>
    /// <param name="mode">The transfer mode.</param>
    /// <param name="length">Bytes to move.</param>
    /// <param name="descriptorLength">The size of one descriptor (<see cref="SdhciHost{TBus}.Adma2DescriptorLength"/> of the host); 8 when not given.</param>
    /// <returns>The offset of the data in the DMA memory.</returns>
    public static int DmaDataOffset(SdhciTransferMode mode, int length, int descriptorLength = Adma2DescriptorSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (descriptorLength is not (Adma2DescriptorSize or Adma2Descriptor96Size or Adma2Descriptor128Size))
            throw new ArgumentOutOfRangeException(nameof(descriptorLength), descriptorLength, "ADMA2 descriptors are 8, 12 or 16 bytes.");
        if (mode != SdhciTransferMode.Adma2)
            return 0;
        var table = SdhciAdma2Table.DescriptorCount(length) * descriptorLength;
        return (table + DmaDataAlignment - 1) / DmaDataAlignment * DmaDataAlignment;
    }

    /// <summary>The DMA memory a transfer of <paramref name="length"/> bytes needs: descriptor table (ADMA2) and data.</summary>
    /// <param name="mode">The transfer mode.</param>
    /// <param name="length">Bytes to move.</param>
    /// <param name="descriptorLength">The size of one descriptor (<see cref="SdhciHost{TBus}.Adma2DescriptorLength"/> of the host); 8 when not given.</param>
    /// <returns>Bytes of DMA memory; 0 for PIO.</returns>
    public static int RequiredDmaLength(SdhciTransferMode mode, int length, int descriptorLength = Adma2DescriptorSize) =>
        mode == SdhciTransferMode.Pio ? 0 : DmaDataOffset(mode, length, descriptorLength) + length;

    /// <summary>The most CMD19s one tuning takes: SD Host Controller 3.00 bounds the procedure to 40 tuning commands.</summary>
    public const int MaxTuningCommands = 40;

    /// <summary>The interrupts the engine enables (status and signal): completions, PIO buffer, DMA, and every error it maps.</summary>
    /// <remarks>Card Removal is among them so a card pulled mid-transfer ends the wait at once, not after the data timeout.</remarks>
    public const SdhciInterrupt HandledInterrupts =
        I.CommandComplete | I.TransferComplete | I.DmaInterrupt | I.BufferWriteReady | I.BufferReadReady | I.CardRemoval | CommandErrors | DataErrors;

    internal const I CommandErrors = I.CommandTimeoutError | I.CommandCrcError | I.CommandEndBitError | I.CommandIndexError;
    internal const I DataErrors = I.DataTimeoutError | I.DataCrcError | I.DataEndBitError | I.CurrentLimitError | I.AutoCmdError | I.AdmaError;

    /// <summary>The SDMA buffer boundary this engine programs (Block Size bits 14:12 = 7): the controller pauses at every 512 KiB.</summary>
    public const int SdmaBoundary = 512 * 1024;

    internal static string Format(TimeSpan span) => span.TotalSeconds >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.###} s")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0.###} ms");
}
