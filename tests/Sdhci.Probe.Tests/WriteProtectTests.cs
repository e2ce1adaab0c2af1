using Sdhci.Probe.Commands;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>A write-protected card is never written: the slot's switch (Present State bit 19 low, as Linux reads it)
/// and the CSD's TMP_WRITE_PROTECT and PERM_WRITE_PROTECT each refuse the write before any command.</summary>
public class WriteProtectTests
{
    public enum Protection
    {
        Switch,
        Temporary,
        Permanent,
    }

    private static readonly int[] WriteCommands = [24, 25];

    private static SdRig Protected(Protection protection)
    {
        var card = new FakeSdCard();
        var csd = (byte[])card.Csd.Clone();
        // Byte 14 of the register holds bits 15:8: TMP_WRITE_PROTECT is bit 12, PERM_WRITE_PROTECT bit 13.
        if (protection == Protection.Temporary)
            csd[14] |= 0x10;
        if (protection == Protection.Permanent)
            csd[14] |= 0x20;
        card.Csd = csd;
        var fake = FakeSdController.Zcu102(card);
        fake.WriteProtectSwitch = protection == Protection.Switch;
        return CardCommandKit.Rig(allowWrite: true, fake: fake);
    }

    [Theory]
    [InlineData(Protection.Switch, "write-protect switch is set (Present State 0x24 bit 19")]
    [InlineData(Protection.Temporary, "TMP_WRITE_PROTECT, bit 12")]
    [InlineData(Protection.Permanent, "PERM_WRITE_PROTECT, bit 13")]
    public void The_write_command_refuses_a_protected_card_naming_why_before_any_command(Protection protection, string named)
    {
        var rig = Protected(protection);
        var before = rig.Fake.Commands.Count;
        var asked = 0;
        var context = CardCommandKit.Context(rig, length => throw new InvalidOperationException("no DMA memory may be taken for a refused write"));

        var error = Assert.Throws<SdhciException>(() =>
            CardCommands.Write(context, 10, 4, SdhciTransferMode.Adma2, (_, span) => asked++, null));

        Assert.Equal(SdhciError.WriteProtected, error.Error);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was sent to the card", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, rig.Fake.Commands.Count);
        Assert.Equal(0, asked);
        Assert.Equal(CardImage.Block(10), rig.Fake.Card.ReadImageBlock(10));
        Assert.Equal((ExitCodes.Failed, error.Message), CommonOptions.Describe(error));
    }

    [Theory]
    [InlineData(Protection.Switch)]
    [InlineData(Protection.Temporary)]
    [InlineData(Protection.Permanent)]
    public void The_engine_itself_refuses_too(Protection protection)
    {
        var rig = Protected(protection);

        var streamed = Assert.Throws<SdhciException>(() => rig.Card.WriteBlocks(3, 2, (_, span) => span.Fill(1)));
        var whole = Assert.Throws<SdhciException>(() => rig.Card.WriteBlocks(3, new byte[1024]));

        Assert.Equal(SdhciError.WriteProtected, streamed.Error);
        Assert.Equal(SdhciError.WriteProtected, whole.Error);
        Assert.DoesNotContain(rig.Fake.Commands, c => WriteCommands.Contains(c.Index));
    }

    [Fact]
    public void Reads_of_a_protected_card_still_work()
    {
        var rig = Protected(Protection.Switch);

        Assert.Equal(CardImage.Blocks(5, 2), rig.Card.ReadBlocks(5, 2));
    }

    [Fact]
    public void Every_protection_that_applies_is_named()
    {
        var card = new FakeSdCard();
        var csd = (byte[])card.Csd.Clone();
        csd[14] |= 0x30;
        card.Csd = csd;
        var fake = FakeSdController.Zcu102(card);
        fake.WriteProtectSwitch = true;
        var rig = CardCommandKit.Rig(allowWrite: true, fake: fake);

        var reasons = rig.Card.WriteProtection();

        Assert.NotNull(reasons);
        Assert.Equal(3, reasons.Split("; ").Length);
    }

    [Fact]
    public void An_unprotected_card_is_written()
    {
        var rig = CardCommandKit.Rig(allowWrite: true);

        Assert.Null(rig.Card.WriteProtection());
        CardCommands.Write(CardCommandKit.Context(rig), 10, 2, SdhciTransferMode.Pio, (_, span) => span.Fill(0xA5), null);

        Assert.All(rig.Fake.Card.ReadImageBlock(11), b => Assert.Equal(0xA5, b));
    }

    [Fact]
    public void The_CSD_decodes_both_write_protect_bits()
    {
        var raw = (byte[])FakeSdCard.QemuCsd64MiB.Clone();
        Assert.False(Csd.Parse(raw).TemporaryWriteProtect);
        raw[14] |= 0x10;
        Assert.True(Csd.Parse(raw).TemporaryWriteProtect);
        Assert.False(Csd.Parse(raw).PermanentWriteProtect);
        raw[14] = 0x20;
        Assert.True(Csd.Parse(raw).PermanentWriteProtect);
        Assert.False(Csd.Parse(raw).TemporaryWriteProtect);
    }
}
