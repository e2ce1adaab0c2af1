using System.CommandLine;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Preparation;

namespace Sdhci.Probe.Commands;

/// <summary>What <c>bind</c> did.</summary>
internal sealed record BindResult(string Device, string? OriginalDriver, string Driver, string GroupPath, bool NoIommu);

/// <summary>What <c>unbind</c> left: the driver the device is bound to now (null: none).</summary>
internal sealed record UnbindResult(string Device, string? Driver, bool Restored);

/// <summary><c>sdhci-probe bind</c> and <c>unbind</c>: the seed's sysfs steps, done safely and reversibly.</summary>
internal static class BindCommands
{
    private static readonly string[] Buses = ["platform", "pci"];

    public static Command CreateBind()
    {
        var device = CommonOptions.Device();
        var unsafeInterrupts = new Option<bool>("--unsafe-interrupts") { Description = "Set vfio_iommu_type1.allow_unsafe_interrupts: needed where the interrupt controller cannot remap interrupts. Unsafe." };
        var noIommu = new Option<bool>("--noiommu") { Description = "Turn on VFIO's no-IOMMU mode (vfio.enable_unsafe_noiommu_mode) so a device behind no IOMMU gets a group. Unsafe: no isolation, and DMA only by physical address." };
        var force = new Option<bool>("--force") { Description = "Bind even though a file system on the card is mounted." };
        var json = CommonOptions.Json();
        var sysfs = CommonOptions.SysfsRoot();
        var command = new Command("bind", "Hand a controller to VFIO: unbind its driver, set driver_override, probe. 'unbind --restore' gives it back.") { device, unsafeInterrupts, noIommu, force, json, sysfs };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var name = result.GetValue(device)!;
            var root = result.GetValue(sysfs)!;
            var mounted = MountedFileSystems(name, root);
            if (mounted.Count > 0 && !result.GetValue(force))
            {
                Console.Error.WriteLine($"sdhci-probe: {name} holds mounted file systems ({string.Join(", ", mounted)}); unmount them or pass --force.");
                return ExitCodes.NotReady;
            }

            if (result.GetValue(noIommu))
            {
                var parameter = Path.Combine(root, "module", "vfio", "parameters", "enable_unsafe_noiommu_mode");
                try
                {
                    File.WriteAllText(parameter, "Y");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new VfioException("enable no-IOMMU mode", name, Errno.EACCES,
                        $"Could not write {parameter} ({e.Message}). Boot with vfio.enable_unsafe_noiommu_mode=1 instead, or run as root.");
                }
            }

            var binding = VfioDeviceBinding.Bind(name, new VfioBindOptions { SysfsRoot = root, AllowUnsafeInterrupts = result.GetValue(unsafeInterrupts), RestoreOnDispose = false });
            var report = new BindResult(name, binding.OriginalDriver, binding.VfioDriver, binding.GroupPath, binding.IsNoIommu);
            if (result.GetValue(json))
            {
                CommonOptions.WriteJson(report, ProbeJson.Default.BindResult);
            }
            else
            {
                Console.WriteLine($"{name}: {binding.OriginalDriver ?? "no driver"} -> {binding.VfioDriver}, group {binding.GroupPath}{(binding.IsNoIommu ? " (no-IOMMU: not isolated, no DMA mapping)" : "")}");
                Console.WriteLine($"Give it back with: sdhci-probe unbind {name} --restore");
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
        var command = new Command("unbind", "Take a controller away from VFIO and clear driver_override; with --restore, give it back to its original driver.") { device, restore, json, sysfs };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var name = result.GetValue(device)!;
            var now = VfioDeviceBinding.Release(name, result.GetValue(restore), new VfioBindOptions { SysfsRoot = result.GetValue(sysfs)! });
            if (result.GetValue(json))
                CommonOptions.WriteJson(new UnbindResult(name, now, result.GetValue(restore)), ProbeJson.Default.UnbindResult);
            else
                Console.WriteLine($"{name}: now bound to {now ?? "no driver"}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Mount points of the block devices (mmcblkN and partitions) below the controller.</summary>
    internal static List<string> MountedFileSystems(string device, string sysfsRoot, string mounts = "/proc/mounts")
    {
        var path = Buses.Select(b => Path.Combine(sysfsRoot, "bus", b, "devices", device)).FirstOrDefault(Directory.Exists);
        if (path is null || !File.Exists(mounts))
        {
            return [];
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true, MaxRecursionDepth = 8 };
        var disks = Directory.EnumerateDirectories(path, "mmcblk*", options).Select(Path.GetFileName).OfType<string>().ToHashSet();
        return File.ReadLines(mounts)
            .Select(line => line.Split(' '))
            .Where(f => f.Length > 1 && f[0].StartsWith("/dev/", StringComparison.Ordinal) && disks.Any(d => f[0][5..].StartsWith(d, StringComparison.Ordinal)))
            .Select(f => $"{f[0]} on {f[1]}")
            .ToList();
    }
}
