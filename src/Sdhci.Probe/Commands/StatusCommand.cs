using System.CommandLine;
using Vfio.Platform.Preparation;

namespace Sdhci.Probe.Commands;

/// <summary><c>sdhci-probe status [DEVICE]</c>: the controllers bound to VFIO and their records.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var device = new Argument<string?>("device") { Description = "One controller (default: every controller that is on VFIO or has a record).", Arity = ArgumentArity.ZeroOrOne };
        var json = CommonOptions.Json();
        var sysfs = CommonOptions.SysfsRoot();
        var command = new Command("status", "Show the controllers on VFIO, the record of what binding them changed, and what 'unbind --restore' would do.") { device, json, sysfs };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var root = result.GetValue(sysfs)!;
            var name = result.GetValue(device);
            if (name is not null)
            {
                BindCommands.RequireController(name, root);
            }

            var entries = Collect(root, new VfioBindOptions { SysfsRoot = root }, name);
            if (result.GetValue(json))
            {
                CommonOptions.WriteJson(entries, StatusJson.Default.ListStatusEntry);
            }
            else
            {
                Console.Write(Describe(entries));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Every controller that is on VFIO or has a record (or just <paramref name="only"/>).</summary>
    internal static List<StatusEntry> Collect(string sysfsRoot, VfioBindOptions options, string? only)
    {
        var records = VfioDeviceBinding.Records(options).ToDictionary(r => r.Device, StringComparer.Ordinal);
        var entries = new List<StatusEntry>();
        foreach (var controller in ControllerInfo.Discover(sysfsRoot))
        {
            records.TryGetValue(controller.Name, out var record);
            var onVfio = controller.Driver is "vfio-platform" or "vfio-pci";
            if ((only is null && record is null && !onVfio) || (only is not null && only != controller.Name))
            {
                continue;
            }

            entries.Add(record is null
                ? new StatusEntry(controller.Name, controller.Driver, false, null, null, [], null, null, null,
                    onVfio ? ["unbind from " + controller.Driver, "clear driver_override", "probe: the bus picks a driver (no record of the original one)"] : ["nothing: not on VFIO"])
                : new StatusEntry(controller.Name, controller.Driver, true, record.OriginalDriver, record.OriginalOverride, record.Parameters, record.Pid,
                    VfioDeviceBinding.IsOwnerAlive(record, options), record.Persistent, RestoreSteps(controller.Driver, record, records.Values)));
        }

        return entries;
    }

    private static List<string> RestoreSteps(string? driver, BindingRecord record, IEnumerable<BindingRecord> all)
    {
        var steps = new List<string>();
        if (driver == record.VfioDriver && record.OriginalDriver != record.VfioDriver)
        {
            steps.Add("unbind from " + driver);
        }

        steps.Add("driver_override -> " + (record.OriginalOverride ?? "(none)"));
        if (record.OriginalDriver is not null && record.OriginalDriver != driver)
        {
            steps.Add("probe -> " + record.OriginalDriver);
        }

        foreach (var change in record.Parameters)
        {
            var others = all.Where(r => r.Device != record.Device && r.Parameters.Any(p => p.Module == change.Module && p.Name == change.Name)).Select(r => r.Device).ToList();
            steps.Add(others.Count == 0
                ? $"{change.Module}.{change.Name} -> {change.OldValue}"
                : $"{change.Module}.{change.Name} stays {change.NewValue} ({string.Join(", ", others)} still needs it)");
        }

        return steps;
    }

    internal static string Describe(IReadOnlyList<StatusEntry> entries)
    {
        if (entries.Count == 0)
        {
            return "No controller is on VFIO, and no binding record is left.\n";
        }

        var text = new System.Text.StringBuilder();
        foreach (var e in entries)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{e.Device}: {e.Driver ?? "no driver"}");
            if (e.Recorded)
            {
                var owner = e.Persistent == true ? "kept bound (sdhci-probe bind)" : e.OwnerRunning == true ? $"in use by pid {e.Pid}" : $"left by pid {e.Pid}, which is gone";
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"; was {e.OriginalDriver ?? "no driver"}; {owner}");
            }
            else
            {
                text.Append("; no binding record");
            }

            text.Append('\n');
            text.Append("  unbind --restore would: ").Append(string.Join("; ", e.RestoreSteps)).Append('\n');
        }

        return text.ToString();
    }
}
