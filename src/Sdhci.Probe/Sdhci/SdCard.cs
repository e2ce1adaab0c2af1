using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// An SD memory card behind an <see cref="SdhciHost{TBus}"/>: the identification sequence that brings it
/// to the transfer state, and block reads (and, when allowed, writes) in PIO, SDMA or ADMA2.
/// </summary>
/// <remarks>
/// <see cref="Initialize"/> runs: controller set-up at 400 kHz, CMD0, CMD8 (0x1AA, the echo
/// checked), ACMD41 with HCS and the host's voltage window until ready, CMD2 (CID), CMD3 (RCA),
/// CMD9 (CSD), CMD7 (select), CMD16 (512 bytes) on standard-capacity cards, ACMD51 (SCR), ACMD6 and
/// a 4-bit host bus when the SCR allows, then the bus speed mode (CMD6 query and switch to High Speed
/// where card and host allow, see <see cref="SelectBusSpeed"/>) and the fastest clock that mode, the
/// options and the controller's dividers allow.
/// </remarks>
/// <example>
/// <code>
/// var card = new SdCard&lt;MmioBus&gt;(new SdhciHost&lt;MmioBus&gt;(region.Bind&lt;SdhciBlock&gt;(), interrupt));
/// var info = card.Initialize();
/// Console.WriteLine($"{info.Cid}\n{info.Csd}\n{info.Scr}");
/// byte[] first = card.ReadBlocks(0, 8);                                          // PIO
/// byte[] more = card.ReadBlocks(8, 64, SdhciTransferMode.Adma2, dmaMemory);      // ADMA2
/// </code>
/// </example>
/// <typeparam name="TBus">Where the controller's registers are (see <see cref="SdhciHost{TBus}"/>).</typeparam>
// One class, split by concern (all files SdCard.*.cs beside this one): this file has construction, the
// card status and write protection; BringUp the identification sequence; BusSpeed the speed mode (High
// Speed, UHS-I with the voltage switch and tuning); Transfers the block reads and writes; Recovery what
// follows a failed block command.
public sealed partial class SdCard<TBus> : ISdCard
    where TBus : IRegisterBus
{
    /// <summary>Wraps <paramref name="host"/>; nothing is sent until <see cref="Initialize"/>.</summary>
    /// <param name="host">The command engine.</param>
    /// <param name="options">Policies; defaults when null.</param>
    public SdCard(SdhciHost<TBus> host, SdCardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        Host = host;
        Options = options ?? new SdCardOptions();
    }

    /// <summary>The command engine.</summary>
    public SdhciHost<TBus> Host { get; }

    /// <inheritdoc/>
    ISdhciHost ISdCard.Host => Host;

    /// <summary>Policies and timeouts.</summary>
    public SdCardOptions Options { get; }

    /// <summary>What <see cref="Initialize"/> found; null before.</summary>
    public SdCardInfo? Info { get; private set; }

    /// <summary>CMD13: the card's status.</summary>
    /// <returns>The R1 status (see <see cref="SdCardStatus"/>).</returns>
    public uint SendStatus() => SendStatus(RequireInfo().Rca);

    /// <summary>CMD13 (SEND_STATUS) to <paramref name="rca"/>.</summary>
    /// <returns>The R1 status.</returns>
    private uint SendStatus(ushort rca) => Host.SendCommand(13, (uint)rca << 16, SdResponseType.R1).Value;

    /// <summary>CMD13 after a command the card ignored, so its ILLEGAL_COMMAND is not reported by the next one; its own failure is not the news.</summary>
    private void TakeStaleStatus(ushort rca)
    {
        try
        {
            SendStatus(rca);
        }
        catch (SdhciException)
        {
        }
    }

    /// <summary>
    /// Why the card must not be written, or null when nothing forbids it: the slot's write-protect switch
    /// (<see cref="SdhciHost{TBus}.WriteProtectSwitchSet"/>, read now), the CSD's PERM_WRITE_PROTECT (bit 13) and
    /// TMP_WRITE_PROTECT (bit 12). Every one that applies is named.
    /// </summary>
    /// <returns>The reasons, joined with "; ", or null.</returns>
    /// <exception cref="InvalidOperationException">The card is not initialized.</exception>
    public string? WriteProtection()
    {
        var info = RequireInfo();
        var reasons = new List<string>(3);
        if (Host.WriteProtectSwitchSet)
            reasons.Add("the slot's write-protect switch is set (Present State 0x24 bit 19, Write Protect Switch Pin Level, reads 0)");
        if (info.Csd.PermanentWriteProtect)
            reasons.Add("the card is permanently write-protected (CSD PERM_WRITE_PROTECT, bit 13)");
        if (info.Csd.TemporaryWriteProtect)
            reasons.Add("the card is temporarily write-protected (CSD TMP_WRITE_PROTECT, bit 12)");
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    /// <summary>Refuses a write to a card that <see cref="WriteProtection"/> says must not be written.</summary>
    /// <exception cref="SdhciException"><see cref="SdhciError.WriteProtected"/>, naming every reason; nothing has been sent to the card.</exception>
    public void ThrowIfWriteProtected()
    {
        if (WriteProtection() is { } protection)
        {
            throw new SdhciException(SdhciError.WriteProtected,
                $"write refused, nothing was sent to the card: {protection}. There is no override: slide the switch, or use another card.");
        }
    }

    private static void CheckStatus(int index, bool application, uint status)
    {
        if (((SdCardStatus)status & SdCardStatusInfo.Errors) == 0)
            return;
        throw new SdhciException(SdhciError.CardStatus,
            $"{SdCommandNames.Describe(index, application)}: the card reports {SdCardStatusInfo.DescribeErrors(status)} (card status 0x{status:x8}).",
            index, application) { CardStatus = status };
    }

    private SdCardInfo RequireInfo() => Info ?? throw new InvalidOperationException("The card is not initialized: call Initialize first.");
}
