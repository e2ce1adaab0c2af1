using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>
/// The seam where an MMC path would start (SdCard.IdentifyMmc): a device that ignores CMD8 and ACMD41 gets the CMD1
/// inquiry, as Linux's mmc_rescan sends after SD failed; an answer means an MMC or eMMC, reported as such and not
/// brought up; no answer keeps the SD failure. SD cards of every kind never see CMD1.
/// </summary>
public class CardFamilyTests
{
    private static List<(int Index, bool Application)> Sent(SdRig rig) => rig.Fake.Commands.Select(c => (c.Index, c.Application)).ToList();

    [Fact]
    public void An_eMMC_is_told_apart_by_CMD1_and_refused_with_what_it_is()
    {
        var rig = new SdRig(FakeSdController.Zcu102(new FakeSdCard { Mmc = true }));

        var error = Assert.Throws<SdhciException>(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.NotAnSdCard, error.Error);
        Assert.Equal(1, error.CommandIndex);
        Assert.Equal(FakeSdCard.MmcOcr, error.CardStatus);
        Assert.Contains("CMD1 (SEND_OP_COND): not an SD card: the device ignored CMD8 and ACMD41 but answered CMD1 with OCR 0x40ff8080", error.Message, StringComparison.Ordinal);
        Assert.Contains("brings up SD cards only", error.Message, StringComparison.Ordinal);
        Assert.Equal([(0, false), (8, false), (55, false), (1, false)], Sent(rig));  // CMD1 once, as an inquiry, and nothing after it
        Assert.Equal(0u, rig.Fake.Commands[^1].Argument);
        Assert.Null(rig.Card.Info);
    }

    [Fact]
    public void A_device_that_answers_nothing_keeps_the_SD_failure()
    {
        var rig = new SdRig(FakeSdController.Zcu102(new FakeSdCard { Mute = true }));

        var error = Assert.Throws<SdhciException>(() => rig.Card.Initialize());

        Assert.Equal(SdhciError.CommandTimeout, error.Error);
        Assert.Equal(55, error.CommandIndex);                                       // the ACMD41 inquiry's CMD55, not the CMD1 tried after it
        Assert.Equal(1, Sent(rig)[^1].Index);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SD_cards_never_see_CMD1(bool version1)
    {
        var rig = new SdRig(FakeSdController.Zcu102(new FakeSdCard { Version1 = version1 }));

        var info = rig.Card.Initialize();

        Assert.Equal(version1 ? SdCardType.StandardCapacityV1 : SdCardType.StandardCapacity, info.Type);
        Assert.DoesNotContain((1, false), Sent(rig));
    }
}
