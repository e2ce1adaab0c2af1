using System.CommandLine;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Preparation;

namespace Sdhci.Probe.Commands;

/// <summary><c>sdhci-probe bind</c> and <c>unbind</c>: the seed's sysfs steps, done safely and reversibly.</summary>
internal static class BindCommands
{
    public static Command CreateBind()
    {
        var device = CommonOptions.Device();
        var unsafeInterrupts = new Option<bool>("--unsafe-interrupts") { Description = "Set vfio_iommu_type1.allow_unsafe_interrupts: needed where the interrupt controller cannot remap interrupts. Unsafe; put back by 'unbind --restore'." };
        var noIommu = new Option<bool>("--noiommu") { Description = "Turn on VFIO's no-IOMMU mode (vfio.enable_unsafe_noiommu_mode) if the device has no IOMMU group. Unsafe: no isolation, and DMA only by physical address; put back by 'unbind --restore'." };
        var owner = new Option<string?>("--owner") { Description = "Give the controller's VFIO nodes (group node, device cdev) to USER[:GROUP], so that dump, irq, init and read run without root. Lasts as long as the binding." };
        var force = new Option<bool>("--force") { Description = "Bind even though the card is in use (mounted, swap, held): its users lose it at once. Says what it overrode." };
        var json = CommonOptions.Json();
        var sysfs = CommonOptions.SysfsRoot();
        var command = new Command("bind", "Hand a controller to VFIO: unbind its driver, set driver_override, probe. 'unbind --restore' gives it back.") { device, unsafeInterrupts, noIommu, owner, force, json, sysfs };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var name = result.GetValue(device)!;
            var root = result.GetValue(sysfs)!;
            var nodeOwner = result.GetValue(owner) is { } text ? VfioNodeOwner.Parse(text) : null; // before anything is touched
            RequireController(name, root);
            // A signal during the sysfs steps waits for them (each is quick); then the bind is undone.
            using var signals = new SignalScope();
            VfioDeviceBinding binding;
            try
            {
                binding = VfioDeviceBinding.Bind(name, new VfioBindOptions
                {
                    SysfsRoot = root,
                    AllowUnsafeInterrupts = result.GetValue(unsafeInterrupts),
                    EnableNoIommu = result.GetValue(noIommu),
                    RefuseBlockDevicesInUse = !result.GetValue(force),
                    Owner = nodeOwner,
                    RestoreOnDispose = false,
                });
            }
            catch (VfioDeviceBusyException e)
            {
                Console.Error.WriteLine($"sdhci-probe: {e.Message} Nothing was changed.{(e.Users.Any(u => u.StartsWith("pid ", StringComparison.Ordinal)) ? "" : " --force takes it anyway, from under its users.")}");
                return ExitCodes.NotReady;
            }

            if (signals.Stopped)
            {
                VfioDeviceBinding.Release(name, reprobe: true, new VfioBindOptions { SysfsRoot = root });
                return CommonOptions.Interrupted(name, signals, "the bind is undone: the controller is back with its driver");
            }

            foreach (var use in binding.OverriddenUses)
            {
                Console.Error.WriteLine($"sdhci-probe: {name}: --force: taken although {use}");
            }

            var report = new BindResult(name, binding.OriginalDriver, binding.VfioDriver, binding.GroupPath, binding.IsNoIommu);
            if (result.GetValue(json))
            {
                CommonOptions.WriteJson(report, ProbeJson.Default.BindResult);
            }
            else
            {
                Console.WriteLine($"{name}: {binding.OriginalDriver ?? "no driver"} -> {binding.VfioDriver}, group {binding.GroupPath}{(binding.IsNoIommu ? " (no-IOMMU: not isolated, no DMA mapping)" : "")}");
                Console.WriteLine($"Give it back with: sdhci-probe unbind {name} --restore");
                if (nodeOwner is not null)
                {
                    Console.WriteLine($"Its VFIO nodes belong to {nodeOwner.Uid}:{nodeOwner.Gid} while it is bound. That user also needs:");
                    foreach (var need in VfioNodeOwner.StillNeeded(binding.IsNoIommu, iommufd: false))
                    {
                        Console.WriteLine("  " + need);
                    }
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command CreateUnbind()
    {
        var device = CommonOptions.Device();
        var restore = new Option<bool>("--restore") { Description = "Let the bus probe the device again so its original driver takes it back." };
        var json = CommonOptions.Json();
        var sysfs = CommonOptions.SysfsRoot();
        var command = new Command("unbind", "Take a controller away from VFIO and put back what binding it changed (driver_override, module parameters); with --restore, give it back to its original driver.") { device, restore, json, sysfs };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var name = result.GetValue(device)!;
            var root = result.GetValue(sysfs)!;
            RequireController(name, root);
            // A signal waits until the device is back (or unbound): stopping half-way would leave it driverless.
            using var signals = new SignalScope();
            var released = VfioDeviceBinding.Release(name, result.GetValue(restore), new VfioBindOptions { SysfsRoot = root });
            if (signals.Stopped)
            {
                return CommonOptions.Interrupted(name, signals, $"finished first: now bound to {released.Driver ?? "no driver"}");
            }

            if (result.GetValue(json))
            {
                CommonOptions.WriteJson(new UnbindResult(name, released.Driver, result.GetValue(restore), released.Notes), ProbeJson.Default.UnbindResult);
            }
            else
            {
                foreach (var note in released.Notes)
                {
                    Console.Error.WriteLine($"sdhci-probe: {name}: {note}");
                }

                Console.WriteLine($"{name}: now bound to {released.Driver ?? "no driver"}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>bind, unbind and --bind take SD host controllers only: the devices <c>list</c> shows.
    /// The library binds anything; this tool is for one kind of device and says so.</summary>
    internal static ControllerInfo RequireController(string name, string sysfsRoot) =>
        ControllerInfo.Discover(sysfsRoot).FirstOrDefault(c => c.Name == name)
        ?? throw new VfioException("find controller", name, Errno.ENODEV,
            "Not an SD host controller: sdhci-probe takes only the devices 'sdhci-probe list' shows (platform devices compatible with sdhci or arasan, PCI class 0805). Other devices: use the Vfio.Platform library.");
}
