using System.Globalization;
using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Commands;

/// <summary>What <c>init --json</c> prints, and the card part of <c>read</c>/<c>write --json</c>. <c>Uhs</c>: why UHS-I was tried
/// and not reached (null when it was reached or not tried).</summary>
internal sealed record CardReport(
    string Type,
    string Rca,
    string Ocr,
    int BusWidth,
    long ClockHz,
    long CapacityBytes,
    long Blocks,
    bool BlockAddressing,
    string BlockCountMode,
    string BusSpeed,
    string BusSpeedReason,
    string? Uhs,
    string? Adma2,
    CidReport Cid,
    CsdReport Csd,
    ScrReport Scr)
{
    /// <summary>The report of <paramref name="info"/>; <c>Adma2</c> (the descriptors --mode adma2 uses) only when <paramref name="host"/> is given and has ADMA2.</summary>
    public static CardReport From(SdCardInfo info, ISdhciHost? host = null) => new(
        info.Type.ToString(),
        Hex(info.Rca, 4),
        Hex(info.Ocr, 8),
        info.BusWidth,
        info.ClockHz,
        info.CapacityBytes,
        info.BlockCount,
        info.BlockAddressing,
        CardCommands.Name(info.BlockCountMode),
        SdBusSpeeds.Key(info.BusSpeed),
        info.BusSpeedText,
        info.UhsNote,
        host is { Capabilities.Adma2: true } ? SdhciHost.Describe(host.Adma2Format) : null,
        new CidReport(info.Cid.RawHex, Hex(info.Cid.ManufacturerId, 2), info.Cid.OemId, info.Cid.ProductName,
            $"{info.Cid.HardwareRevision}.{info.Cid.FirmwareRevision}", Hex(info.Cid.SerialNumber, 8),
            string.Create(CultureInfo.InvariantCulture, $"{info.Cid.ManufacturingYear}-{info.Cid.ManufacturingMonth:00}")),
        new CsdReport(info.Csd.RawHex, info.Csd.Version, info.Csd.MaxTransferRateHz, info.Csd.ReadBlockLength),
        new ScrReport(info.Scr.RawHex, info.Scr.SpecVersion, info.Scr.Supports1BitBus, info.Scr.Supports4BitBus, info.Scr.SupportsCmd23));

    private static string Hex(ulong value, int digits) => "0x" + value.ToString("x" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}

internal sealed record CidReport(string Raw, string Manufacturer, string Oem, string Product, string Revision, string Serial, string Made);

internal sealed record CsdReport(string Raw, string Version, long MaxTransferRateHz, int ReadBlockLength);

internal sealed record ScrReport(string Raw, string SpecVersion, bool Bus1Bit, bool Bus4Bit, bool Cmd23);

/// <summary>What <c>read --json</c> and <c>write --json</c> print: the card, the transfer and its timing.
/// <c>Data</c> (base64) only for a read without <c>--out</c>; <c>Adma</c> ("32-bit", "64-bit", "64-bit (v4)": the
/// descriptors used) only for <c>--mode adma2</c>; <c>DmaAddress</c> (hex: the IOVA, or without an IOMMU the
/// physical address, of the DMA memory) only for sdma and adma2. No hash: .NET's hashes need OpenSSL, which
/// a board's minimal root file system may lack; hash the <c>--out</c> file with sha256sum.</summary>
internal sealed record TransferReport(
    string Device,
    string Direction,
    long Lba,
    int Blocks,
    long Bytes,
    string Mode,
    string? Adma,
    string BlockCountMode,
    double BringUpSeconds,
    double TransferSeconds,
    double BytesPerSecond,
    string? DmaAddress,
    string? Out,
    string? Data,
    CardReport Card);
