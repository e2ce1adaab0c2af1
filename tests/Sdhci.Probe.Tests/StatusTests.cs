using Sdhci.Probe.Commands;
using Vfio.Platform.Preparation;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary><c>sdhci-probe status</c>: the controllers on VFIO or with a record, what the record says
/// and what <c>unbind --restore</c> would do, from a fake sysfs tree and state directory.</summary>
public sealed class StatusTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("vfio-status");

    private string Sys => Path.Combine(_root.FullName, "sys");

    private string State => Path.Combine(_root.FullName, "run");

    private VfioBindOptions Options => new() { SysfsRoot = Sys, StateDirectory = State, ProcRoot = Path.Combine(_root.FullName, "proc") };

    public void Dispose() => _root.Delete(recursive: true);

    /// <summary>A platform SD controller bound to <paramref name="driver"/>.</summary>
    private void Controller(string name, string? driver)
    {
        var device = Path.Combine(Sys, "bus", "platform", "devices", name);
        Directory.CreateDirectory(Path.Combine(device, "of_node"));
        File.WriteAllText(Path.Combine(device, "of_node", "compatible"), "xlnx,zynqmp-8.9a\0arasan,sdhci-8.9a\0");
        if (driver is not null)
        {
            var folder = Path.Combine(Sys, "bus", "platform", "drivers", driver);
            Directory.CreateDirectory(folder);
            File.CreateSymbolicLink(Path.Combine(device, "driver"), folder);
        }
    }

    private void Record(string device, bool persistent, params ModuleParameterChange[] parameters)
    {
        Directory.CreateDirectory(State);
        var json = $$"""
            {"device":"{{device}}","bus":"platform","originalDriver":"sdhci-arasan","vfioDriver":"vfio-platform","pid":99999999,"pidStartTime":1,"persistent":{{(persistent ? "true" : "false")}},
             "parameters":[{{string.Join(",", parameters.Select(p => $$"""{"module":"{{p.Module}}","name":"{{p.Name}}","oldValue":"{{p.OldValue}}","newValue":"{{p.NewValue}}"}"""))}}]}
            """;
        File.WriteAllText(Path.Combine(State, device + ".json"), json);
    }

    [Fact]
    public void Nothing_bound_and_no_record_says_so()
    {
        Controller("ff160000.mmc", "sdhci-arasan");

        var entries = StatusCommand.Collect(Sys, Options, only: null);

        Assert.Empty(entries);
        Assert.Contains("No controller is on VFIO", StatusCommand.Describe(entries), StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_left_by_a_dead_process_shows_what_restore_will_do()
    {
        Controller("ff170000.mmc", "vfio-platform");
        Record("ff170000.mmc", persistent: false, new ModuleParameterChange("vfio", "enable_unsafe_noiommu_mode", "N", "Y"));

        var entry = Assert.Single(StatusCommand.Collect(Sys, Options, only: null));
        var text = StatusCommand.Describe([entry]);

        Assert.True(entry.Recorded);
        Assert.Equal("sdhci-arasan", entry.OriginalDriver);
        Assert.False(entry.OwnerRunning);
        Assert.Contains("ff170000.mmc: vfio-platform; was sdhci-arasan; left by pid 99999999, which is gone", text, StringComparison.Ordinal);
        Assert.Equal(["unbind from vfio-platform", "driver_override -> (none)", "probe -> sdhci-arasan", "vfio.enable_unsafe_noiommu_mode -> N"], entry.RestoreSteps);
    }

    [Fact]
    public void A_parameter_another_record_needs_is_said_to_stay()
    {
        var parameter = new ModuleParameterChange("vfio_iommu_type1", "allow_unsafe_interrupts", "N", "Y");
        Controller("ff160000.mmc", "vfio-platform");
        Controller("ff170000.mmc", "vfio-platform");
        Record("ff160000.mmc", persistent: true, parameter);
        Record("ff170000.mmc", persistent: true, parameter);

        var entry = Assert.Single(StatusCommand.Collect(Sys, Options, only: "ff170000.mmc"));

        Assert.Contains("vfio_iommu_type1.allow_unsafe_interrupts stays Y (ff160000.mmc still needs it)", entry.RestoreSteps);
        Assert.Contains("kept bound (sdhci-probe bind)", StatusCommand.Describe([entry]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_controller_on_VFIO_without_a_record_is_shown_with_what_restore_can_do()
    {
        Controller("ff170000.mmc", "vfio-platform");

        var entry = Assert.Single(StatusCommand.Collect(Sys, Options, only: null));

        Assert.False(entry.Recorded);
        Assert.Contains("no binding record", StatusCommand.Describe([entry]), StringComparison.Ordinal);
        Assert.Contains("probe: the bus picks a driver (no record of the original one)", entry.RestoreSteps);
    }
}
