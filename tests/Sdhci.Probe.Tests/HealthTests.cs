using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>A ZynqMP whose SD clock was gated after sdhci-arasan was unbound reads all zeros (or all ones on some buses).</summary>
public class HealthTests
{
    [Fact]
    public void Controller_reading_all_zeros_is_reported_with_what_to_do()
    {
        var health = SdhciHealth.Assess(SdhciDump.Read(new FakeSdhciController(), SdhciDumpOptions.Arasan));

        Assert.Equal(SdhciHealthStatus.AllZeros, health.Status);
        Assert.False(health.IsOk);
        Assert.Contains("reads 0", health.Summary, StringComparison.Ordinal);
        Assert.NotNull(health.Advice);
        Assert.Contains("clk_ignore_unused", health.Advice, StringComparison.Ordinal);
        Assert.Contains("modprobe.blacklist=sdhci_of_arasan", health.Advice, StringComparison.Ordinal);
        Assert.Contains("driver_override", health.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Controller_reading_all_ones_is_reported_with_what_to_do()
    {
        var fake = new FakeSdhciController();
        fake.Fill(0xFF);

        var health = SdhciHealth.Assess(SdhciDump.Read(fake));

        Assert.Equal(SdhciHealthStatus.AllOnes, health.Status);
        Assert.Contains("all ones", health.Summary, StringComparison.Ordinal);
        Assert.Contains("clk_ignore_unused", health.Advice, StringComparison.Ordinal);
    }

    [Fact]
    public void Live_controllers_of_both_rig_machines_are_ok()
    {
        Assert.Equal(SdhciHealthStatus.Ok, SdhciHealth.Assess(SdhciDump.Read(FakeSdhciController.Zcu102())).Status);
        Assert.Equal(SdhciHealthStatus.Ok, SdhciHealth.Assess(SdhciDump.Read(FakeSdhciController.SdhciPci())).Status);
        Assert.Null(SdhciHealth.Assess(SdhciDump.Read(FakeSdhciController.Zcu102())).Advice);
    }

    [Fact]
    public void A_single_live_register_is_enough_to_not_call_the_controller_dead()
    {
        var zeros = new FakeSdhciController();
        zeros.Set16(0xFE, 0x0002);
        var ones = new FakeSdhciController();
        ones.Fill(0xFF);
        ones.Set8(0x29, 0x0F);

        Assert.Equal(SdhciHealthStatus.Ok, SdhciHealth.Assess(SdhciDump.Read(zeros)).Status);
        Assert.Equal(SdhciHealthStatus.Ok, SdhciHealth.Assess(SdhciDump.Read(ones)).Status);
    }

    [Fact]
    public void Vendor_registers_do_not_count_toward_health()
    {
        var fake = new FakeSdhciController();
        fake.Set32(0x78, 0x1); // only the Arasan vendor register answers

        Assert.Equal(SdhciHealthStatus.AllZeros, SdhciHealth.Assess(SdhciDump.Read(fake, SdhciDumpOptions.Arasan)).Status);
    }

    [Fact]
    public void Decoded_text_and_JSON_carry_the_diagnostic()
    {
        var snapshot = SdhciDump.Read(new FakeSdhciController());

        var text = SdhciDump.FormatDecoded(snapshot);
        var json = SdhciDump.ToJson(SdhciDump.Decode(snapshot));

        Assert.Contains("Health: AllZeros: Every SDHCI register reads 0", text, StringComparison.Ordinal);
        Assert.Contains("What to do: Keep the host driver from ever binding", text, StringComparison.Ordinal);
        Assert.Contains("\"status\": \"AllZeros\"", json, StringComparison.Ordinal);
    }
}
