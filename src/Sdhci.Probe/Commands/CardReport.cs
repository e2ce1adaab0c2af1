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
