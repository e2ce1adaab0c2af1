namespace Sdhci.Probe.Commands;

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
