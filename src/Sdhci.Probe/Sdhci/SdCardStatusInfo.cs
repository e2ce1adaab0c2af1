namespace Sdhci.Probe.Sdhci;

/// <summary>Reading an R1 card status.</summary>
public static class SdCardStatusInfo
{
    /// <summary>The bits that mean the command failed (the kernel's R1 error bits).</summary>
    public const SdCardStatus Errors =
        SdCardStatus.OutOfRange | SdCardStatus.AddressError | SdCardStatus.BlockLenError | SdCardStatus.EraseSeqError |
        SdCardStatus.EraseParam | SdCardStatus.WpViolation | SdCardStatus.LockUnlockFailed | SdCardStatus.ComCrcError |
        SdCardStatus.IllegalCommand | SdCardStatus.CardEccFailed | SdCardStatus.CcError | SdCardStatus.Error |
        SdCardStatus.CsdOverwrite | SdCardStatus.WpEraseSkip | SdCardStatus.AkeSeqError;

    /// <summary>The state in bits 12:9.</summary>
    /// <param name="status">The R1 status.</param>
    /// <returns>The state.</returns>
    public static SdCardState State(uint status) => (SdCardState)((status >> 9) & 0xF);

    /// <summary>The error bits set in <paramref name="status"/>, by name ("OutOfRange, AddressError"), or "none".</summary>
    /// <param name="status">The R1 status.</param>
    /// <returns>The names.</returns>
    public static string DescribeErrors(uint status)
    {
        var errors = (SdCardStatus)status & Errors;
        if (errors == 0)
            return "none";
        return string.Join(", ", Enum.GetValues<SdCardStatus>().Where(flag => flag != 0 && errors.HasFlag(flag)));
    }
}
