using System.Diagnostics;
using System.Globalization;
using Vfio.Native;

namespace Vfio.Platform.Preparation;

/// <summary>Hands a device to VFIO the way the kernel documentation describes it by hand: unbind it from
/// its driver, write the VFIO driver into <c>driver_override</c>, ask the bus to probe it, check that
/// it has an IOMMU group and wait for the group's node; gives it back on <see cref="Restore"/> or dispose.</summary>
/// <remarks>
/// A bind is a transaction. Before its first sysfs write it records what it will change (the driver,
/// <c>driver_override</c>, the module parameters and their old values) in a <see cref="BindingRecord"/>
/// under <see cref="VfioBindOptions.StateDirectory"/>. A failure after any write puts every change back,
/// lets the original driver take the device again and removes the record. Restoring reads the record,
/// not the current state, so a later process (<see cref="Release(string, bool, VfioBindOptions?)"/>) gives the device back correctly
/// after this one was killed. A device whose block devices are in use is not taken, and a device
/// whose VFIO nodes another process holds is not released under it.
/// </remarks>
/// <example>
/// <code>
/// using var binding = VfioDeviceBinding.Bind("ff170000.mmc");
/// using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = binding.IsNoIommu });
/// using var group = container.OpenGroup(binding.GroupPath);
/// </code>
/// </example>
public sealed class VfioDeviceBinding : IDisposable
{
    private readonly ISysfs _sysfs;
    private readonly VfioBindOptions _options;
    private readonly BindingStore _store;
    private readonly BindingRecord? _record;
    private bool _restored;

    private VfioDeviceBinding(ISysfs sysfs, VfioBindOptions options, BindingStore store, string device, string bus, BindingRecord? record, string? originalDriver)
    {
        _sysfs = sysfs;
        _options = options;
        _store = store;
        _record = record;
        Device = device;
        Bus = bus;
        OriginalDriver = originalDriver;
        VfioDriver = VfioDriverOf(bus);
    }

    /// <summary>The device's sysfs name.</summary>
    public string Device { get; }

    /// <summary><c>platform</c>, <c>pci</c> or <c>amba</c>.</summary>
    public string Bus { get; }

    /// <summary>The driver the device had before (null: none). From the record when an earlier process
    /// bound it and died: never the VFIO driver that process left behind.</summary>
    public string? OriginalDriver { get; }

    /// <summary>The VFIO driver it is bound to now.</summary>
    public string VfioDriver { get; }

    /// <summary>The IOMMU group number.</summary>
    public int GroupNumber { get; private set; }

    /// <summary>The group node: <c>/dev/vfio/N</c>, or <c>/dev/vfio/noiommu-N</c> in no-IOMMU mode.</summary>
    public string GroupPath { get; private set; } = "";

    /// <summary>The group is a no-IOMMU group (no isolation, no DMA mapping).</summary>
    public bool IsNoIommu => Path.GetFileName(GroupPath).StartsWith("noiommu-", StringComparison.Ordinal);

    /// <summary>What this binding changed and gives back (null: it changed nothing, the device was on
    /// VFIO before it came, or a persistent binding of another process is being used).</summary>
    public BindingRecord? Record => _record;

    /// <summary>What the block devices' users check overrode (filled only when
    /// <see cref="VfioBindOptions.RefuseBlockDevicesInUse"/> was off and something used them).</summary>
    public IReadOnlyList<string> OverriddenUses { get; private set; } = [];

    private string DevicePath => DevicePathOf(_sysfs, Bus, Device);

    /// <summary>Binds <paramref name="device"/> to its VFIO driver (a no-op when it already is).</summary>
    /// <exception cref="VfioDeviceBusyException">Its block devices are in use, or another live process bound it for itself.</exception>
    /// <exception cref="VfioException">Each step that fails, with the errno and what to do; every change made before it is undone.</exception>
    public static VfioDeviceBinding Bind(string device, VfioBindOptions? options = null)
    {
        options ??= new VfioBindOptions();
        return Bind(Sysfs.Of(options), device, options);
    }

    internal static VfioDeviceBinding Bind(ISysfs sysfs, string device, VfioBindOptions options)
    {
        var bus = FindBus(sysfs, device, "bind");
        var store = new BindingStore(options.StateDirectory, sysfs);
        var devicePath = DevicePathOf(sysfs, bus, device);
        var vfio = VfioDriverOf(bus);
        var current = sysfs.LinkName(Path.Combine(devicePath, "driver"));
        var existing = store.Read(device);

        if (existing is not null && !existing.Persistent && store.OwnerAlive(existing) && existing.Pid != Environment.ProcessId)
        {
            throw new VfioDeviceBusyException("bind", device,
                [$"pid {existing.Pid} bound it for its own use at {existing.Created:u}"], $"Wait for it to finish; its record is {store.PathOf(device)}.");
        }

        if (current == vfio && (existing is null || existing.Persistent))
        {
            // On VFIO already: bound on purpose by an earlier command and meant to stay so, or VFIO's
            // before we came (by hand, another tool). Use it, change nothing, now and after.
            return Finish(new VfioDeviceBinding(sysfs, options with { RestoreOnDispose = false }, store, device, bus, null, existing?.OriginalDriver ?? current));
        }

        IReadOnlyList<string> overridden = [];
        if (current != vfio)
        {
            var uses = DeviceUsers.BlockDeviceUses(sysfs, devicePath);
            if (uses.Count > 0 && options.RefuseBlockDevicesInUse)
            {
                throw new VfioDeviceBusyException("bind", device, uses,
                    "Taking the device would pull these from under their users. Unmount them (swapoff, stop the holder) first.");
            }

            overridden = uses;
        }

        var planned = PlanParameters(sysfs, store, options, device, devicePath);
        var record = existing is not null
            // A run that died half-way: its record knows the original driver, override and parameter
            // values; take it over, so that this run finishes or undoes its work.
            ? existing with
            {
                Parameters = [.. existing.Parameters, .. planned.Where(p => !existing.Parameters.Any(e => e.Module == p.Module && e.Name == p.Name))],
                Owner = options.Owner ?? existing.Owner,
                Pid = Environment.ProcessId,
                PidStartTime = store.StartTime(Environment.ProcessId),
                Persistent = !options.RestoreOnDispose,
            }
            : new BindingRecord
            {
                Device = device,
                Bus = bus,
                OriginalDriver = current,
                OriginalOverride = NormalizeOverride(sysfs.ReadText(Path.Combine(devicePath, "driver_override"))),
                VfioDriver = vfio,
                Parameters = planned,
                Owner = options.Owner,
                Pid = Environment.ProcessId,
                PidStartTime = store.StartTime(Environment.ProcessId),
                Persistent = !options.RestoreOnDispose,
                Created = DateTimeOffset.UtcNow,
            };
        store.Write(record);
        var binding = Transaction(sysfs, options, store, device, bus, record);
        binding.OverriddenUses = overridden;
        return binding;
    }

    /// <summary>Runs the bind steps for a written record; on any failure gives everything back.</summary>
    private static VfioDeviceBinding Transaction(ISysfs sysfs, VfioBindOptions options, BindingStore store, string device, string bus, BindingRecord record)
    {
        var binding = new VfioDeviceBinding(sysfs, options, store, device, bus, record, record.OriginalDriver);
        try
        {
            binding.BindToVfio(record);
            return Finish(binding);
        }
        catch (Exception failure) when (failure is VfioException or IOException or UnauthorizedAccessException)
        {
            try
            {
                GiveBack(sysfs, options, store, record, reprobe: true, checkHolders: false);
            }
            catch (VfioException rollback)
            {
                throw new VfioException(failure is VfioException v ? v.Operation : "bind", device, Errno.EIO,
                    $"{failure.Message} Undoing the bind failed too: {rollback.Message} What is left to undo stays in {store.PathOf(device)}.");
            }

            throw;
        }
    }

    private static VfioDeviceBinding Finish(VfioDeviceBinding binding)
    {
        binding.FindGroup();
        binding._options.Owner?.Apply(binding._sysfs, binding.Device,
            VfioNodes(binding._sysfs, binding.DevicePath).Where(binding._sysfs.Exists).Distinct(StringComparer.Ordinal));
        return binding;
    }

    /// <summary>The device's VFIO nodes: its group node (either spelling) and its device cdevs.</summary>
    private static List<string> VfioNodes(ISysfs sysfs, string devicePath)
    {
        var nodes = new List<string>();
        if (sysfs.LinkName(Path.Combine(devicePath, "iommu_group")) is { } group)
        {
            nodes.Add(Path.Combine(sysfs.DevRoot, "vfio", group));
            nodes.Add(Path.Combine(sysfs.DevRoot, "vfio", "noiommu-" + group));
        }

        nodes.AddRange(sysfs.Entries(Path.Combine(devicePath, "vfio-dev")).Where(sysfs.IsDirectory)
            .Select(d => Path.Combine(sysfs.DevRoot, "vfio", "devices", Path.GetFileName(d))));

        return nodes;
    }

    private void BindToVfio(BindingRecord record)
    {
        foreach (var change in record.Parameters)
        {
            Write(ParameterPath(_sysfs, change), change.NewValue, $"set {change.Module}.{change.Name}", null);
        }

        var current = _sysfs.LinkName(Path.Combine(DevicePath, "driver"));
        if (current == VfioDriver)
        {
            return;
        }

        if (current is not null)
        {
            Write(Path.Combine(DevicePath, "driver", "unbind"), Device, $"unbind from {current}", null);
        }

        Write(Path.Combine(DevicePath, "driver_override"), VfioDriver, "driver_override",
            "The kernel needs driver_override support (Linux 3.16 or later for platform devices).");
        Write(Path.Combine(_sysfs.SysfsRoot, "bus", Bus, "drivers_probe"), Device, "drivers_probe",
            Bus == "platform" ? "For vfio-platform, a device without a reset handler needs vfio-platform.reset_required=0 on the kernel command line." : null);

        if (!WaitFor(_options, () => _sysfs.LinkName(Path.Combine(DevicePath, "driver")) == VfioDriver))
        {
            var now = _sysfs.LinkName(Path.Combine(DevicePath, "driver"));
            throw new VfioException("drivers_probe", Device, Errno.ENODEV,
                $"{VfioDriver} did not bind the device (it is bound to {now ?? "nothing"}). Is CONFIG_{(Bus == "pci" ? "VFIO_PCI" : "VFIO_PLATFORM")} enabled and the module loaded?" +
                (Bus == "platform" ? " Without a reset handler vfio-platform refuses the device unless booted with vfio-platform.reset_required=0." : "") + " The kernel log (dmesg) says why.");
        }
    }

    private void FindGroup()
    {
        var group = _sysfs.LinkName(Path.Combine(DevicePath, "iommu_group"));
        if (group is null || !int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw new VfioException("iommu_group", Device, Errno.ENODEV,
                "The device has no IOMMU group: no IOMMU covers it. Turn on VFIO's no-IOMMU mode (VfioBindOptions.EnableNoIommu, or boot with vfio.enable_unsafe_noiommu_mode=1) to use it without isolation.");
        }

        GroupNumber = number;
        var vfio = Path.Combine(_sysfs.DevRoot, "vfio");
        string? node = null;
        var appeared = WaitFor(_options, () => (node = Discovery.SysfsDevices.GroupNode(_sysfs, group)) is not null);
        GroupPath = appeared ? node! : throw new VfioException("wait for group node", Device, Errno.ETIMEDOUT,
            $"Neither {vfio}/{group} nor {vfio}/noiommu-{group} appeared within {_options.Timeout.TotalSeconds:0.#} s (is devtmpfs mounted, or udev running?).");
    }

    /// <summary>Takes a device away from its VFIO driver in a later process than the one that bound it.
    /// With a record (<see cref="Records"/>), everything it lists is put back: the original
    /// <c>driver_override</c>, the module parameters (unless another recorded binding still needs them)
    /// and, with <paramref name="reprobe"/>, the original driver. Without one, the device is unbound from
    /// VFIO, its override cleared and, with <paramref name="reprobe"/>, the bus probes it again.
    /// Refuses (<see cref="VfioDeviceBusyException"/>) while another process holds its VFIO group or
    /// device node, instead of blocking in the kernel until that process lets go.</summary>
    public static VfioReleaseResult Release(string device, bool reprobe, VfioBindOptions? options = null)
    {
        options ??= new VfioBindOptions();
        return Release(Sysfs.Of(options), device, reprobe, options);
    }

    internal static VfioReleaseResult Release(ISysfs sysfs, string device, bool reprobe, VfioBindOptions options)
    {
        var bus = FindBus(sysfs, device, "release");
        var store = new BindingStore(options.StateDirectory, sysfs);
        var record = store.Read(device);
        if (record is not null && !record.Persistent && store.OwnerAlive(record) && record.Pid != Environment.ProcessId)
        {
            throw new VfioDeviceBusyException("release", device, [$"pid {record.Pid} bound it for its own use and runs"],
                "It gives the device back when it ends; stop it first.");
        }

        if (record is null)
        {
            var current = sysfs.LinkName(Path.Combine(DevicePathOf(sysfs, bus, device), "driver"));
            if (current != VfioDriverOf(bus))
            {
                return new VfioReleaseResult(device, current, [$"{device} is not bound to {VfioDriverOf(bus)} and has no binding record: nothing to give back"]);
            }

            record = new BindingRecord { Device = device, Bus = bus, VfioDriver = VfioDriverOf(bus), OriginalDriver = null, OriginalOverride = null };
        }

        var notes = GiveBack(sysfs, options, store, record, reprobe, checkHolders: true);
        return new VfioReleaseResult(device, sysfs.LinkName(Path.Combine(DevicePathOf(sysfs, bus, device), "driver")), notes);
    }

    /// <summary>The binding records of <paramref name="options"/>' state directory: the devices bound
    /// by this library and not given back yet, and what giving them back will do.</summary>
    public static IReadOnlyList<BindingRecord> Records(VfioBindOptions? options = null)
    {
        options ??= new VfioBindOptions();
        return new BindingStore(options.StateDirectory, Sysfs.Of(options)).All();
    }

    /// <summary>True while the process that wrote <paramref name="record"/> still runs.</summary>
    public static bool IsOwnerAlive(BindingRecord record, VfioBindOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        options ??= new VfioBindOptions();
        return new BindingStore(options.StateDirectory, Sysfs.Of(options)).OwnerAlive(record);
    }

    /// <summary>Unbinds the device from VFIO, puts back its <c>driver_override</c> and the module
    /// parameters the binding changed, and lets its original driver probe it again; removes the record.
    /// Does nothing for a device that was on VFIO before the binding. Safe to call twice.</summary>
    public void Restore()
    {
        if (_restored)
        {
            return;
        }

        _restored = true;
        if (_record is not null)
        {
            GiveBack(_sysfs, _options, _store, _record, reprobe: true, checkHolders: true);
        }
    }

    /// <summary>Restores the original driver when <see cref="VfioBindOptions.RestoreOnDispose"/> is set.</summary>
    public void Dispose()
    {
        if (_options.RestoreOnDispose)
        {
            Restore();
        }
    }

    /// <summary>Puts back what <paramref name="record"/> lists, step by step, each step only when the
    /// state still differs; removes the record once all of it is back. Returns notes for the user.</summary>
    private static List<string> GiveBack(ISysfs sysfs, VfioBindOptions options, BindingStore store, BindingRecord record, bool reprobe, bool checkHolders)
    {
        var notes = new List<string>();
        var device = record.Device;
        var devicePath = DevicePathOf(sysfs, record.Bus, device);
        var current = sysfs.LinkName(Path.Combine(devicePath, "driver"));
        if (current == record.VfioDriver && record.OriginalDriver != record.VfioDriver)
        {
            if (checkHolders)
            {
                RefuseIfHeld(sysfs, options, device, devicePath);
            }

            var nodes = VfioNodes(sysfs, devicePath);
            WriteOrThrow(sysfs, device, Path.Combine(devicePath, "driver", "unbind"), device, $"unbind from {current}",
                "Close every program that holds the device's VFIO group or device node first.");
            current = null;
            if (record.Owner is not null)
            {
                // A group node that outlives the unbind (another device of the group is still on VFIO) goes back to root.
                foreach (var node in nodes.Where(sysfs.Exists))
                {
                    if (sysfs.Chown(node, 0, 0) < 0)
                    {
                        notes.Add($"{node} is still owned by {record.Owner.Uid}:{record.Owner.Gid}: chown failed");
                    }
                }
            }
        }
        else if (current is not null && current != record.OriginalDriver)
        {
            notes.Add($"{device} is bound to {current}, which this binding did not do; left as it is");
        }

        var wantedOverride = record.OriginalOverride ?? "\n"; // a lone newline clears it
        if (NormalizeOverride(sysfs.ReadText(Path.Combine(devicePath, "driver_override"))) != record.OriginalOverride)
        {
            WriteOrThrow(sysfs, device, Path.Combine(devicePath, "driver_override"), wantedOverride, "driver_override", null);
        }

        if (reprobe && current is null && record.OriginalDriver is not null && record.OriginalDriver != record.VfioDriver)
        {
            WriteOrThrow(sysfs, device, Path.Combine(sysfs.SysfsRoot, "bus", record.Bus, "drivers_probe"), device, "drivers_probe", null);
            if (!WaitFor(options, () => sysfs.LinkName(Path.Combine(devicePath, "driver")) == record.OriginalDriver))
            {
                throw new VfioException("restore", device, Errno.ENODEV,
                    $"{record.OriginalDriver} did not take the device back; the kernel log (dmesg) says why. The record stays in {store.PathOf(device)}.");
            }
        }
        else if (reprobe && current is null && record.OriginalDriver is null && record.OriginalOverride is null)
        {
            // No record of an original driver (a device bound without this library): let the bus choose.
            WriteOrThrow(sysfs, device, Path.Combine(sysfs.SysfsRoot, "bus", record.Bus, "drivers_probe"), device, "drivers_probe", null);
            WaitFor(options, () => sysfs.LinkName(Path.Combine(devicePath, "driver")) is not null);
        }

        var others = store.All().Where(r => r.Device != device).ToList();
        foreach (var change in record.Parameters)
        {
            var needing = others.Where(r => r.Parameters.Any(p => p.Module == change.Module && p.Name == change.Name)).Select(r => r.Device).ToList();
            if (needing.Count > 0)
            {
                notes.Add($"{change.Module}.{change.Name} stays {change.NewValue}: {string.Join(", ", needing)} still needs it");
                continue;
            }

            var path = ParameterPath(sysfs, change);
            if (!SameBool(sysfs.ReadText(path), change.OldValue))
            {
                WriteOrThrow(sysfs, device, path, change.OldValue, $"put back {change.Module}.{change.Name}", null);
            }
        }

        store.Delete(device);
        return notes;
    }

    private static void RefuseIfHeld(ISysfs sysfs, VfioBindOptions options, string device, string devicePath)
    {
        var nodes = VfioNodes(sysfs, devicePath);
        var holders = DeviceUsers.Holders(sysfs, nodes);
        if (holders.Count == 0)
        {
            // Descriptors we cannot read: a group opens once at a time, so EBUSY still tells.
            var groupNode = nodes.Take(2).FirstOrDefault(sysfs.Exists);
            if (groupNode is not null && sysfs.TryOpen(groupNode, exclusive: false) == -Errno.EBUSY)
            {
                holders.Add($"a process this one cannot see holds {groupNode}");
            }
        }

        if (holders.Count > 0)
        {
            throw new VfioDeviceBusyException("release", device, holders,
                "The kernel would wait until they close it; close them first.");
        }
    }

    /// <summary>The parameter changes a bind needs, checked before any write: a parameter that does
    /// not exist fails here, with nothing changed yet.</summary>
    private static List<ModuleParameterChange> PlanParameters(ISysfs sysfs, BindingStore store, VfioBindOptions options, string device, string devicePath)
    {
        var changes = new List<ModuleParameterChange>();
        if (options.AllowUnsafeInterrupts)
        {
            Plan("vfio_iommu_type1", "allow_unsafe_interrupts", "Is vfio_iommu_type1 loaded (modprobe vfio_iommu_type1)?");
        }

        if (options.EnableNoIommu && sysfs.LinkName(Path.Combine(devicePath, "iommu_group")) is null)
        {
            Plan("vfio", "enable_unsafe_noiommu_mode", "The kernel needs CONFIG_VFIO_NOIOMMU (and the vfio module loaded).");
        }

        return changes;

        void Plan(string module, string name, string hint)
        {
            var change = new ModuleParameterChange(module, name, "", "Y");
            var value = sysfs.ReadText(ParameterPath(sysfs, change))
                ?? throw new VfioException($"read {module}.{name}", device, Errno.ENOENT, $"{ParameterPath(sysfs, change)} does not exist. {hint}");
            if (!SameBool(value, "Y"))
            {
                changes.Add(change with { OldValue = value });
                return;
            }

            // Already on: if an earlier binding turned it on, inherit its old value so that whichever
            // of the two is given back last puts the original back.
            var earlier = store.All().SelectMany(r => r.Parameters).FirstOrDefault(p => p.Module == module && p.Name == name);
            if (earlier is not null)
            {
                changes.Add(earlier);
            }
        }
    }

    private static string ParameterPath(ISysfs sysfs, ModuleParameterChange change) =>
        Path.Combine(sysfs.SysfsRoot, "module", change.Module, "parameters", change.Name);

    /// <summary>Boolean module parameters read back as Y/N and are written as 1/0/Y/N.</summary>
    private static bool SameBool(string? a, string? b) =>
        string.Equals(AsBool(a), AsBool(b), StringComparison.Ordinal);

    private static string? AsBool(string? value) => value?.Trim() switch
    {
        "1" or "Y" or "y" => "Y",
        "0" or "N" or "n" => "N",
        var other => other,
    };

    /// <summary><c>driver_override</c> reads <c>(null)</c> or nothing when unset: both mean none.</summary>
    private static string? NormalizeOverride(string? value) =>
        string.IsNullOrWhiteSpace(value) || value.Trim() == "(null)" ? null : value.Trim();

    private static string FindBus(ISysfs sysfs, string device, string operation)
    {
        return Discovery.SysfsDevices.Find(sysfs, device, operation)?.Bus
            ?? throw new VfioException(operation, device, Errno.ENODEV, Discovery.SysfsDevices.NotFound(sysfs, device));
    }

    private static string DevicePathOf(ISysfs sysfs, string bus, string device) => Discovery.SysfsDevices.PathOf(sysfs, bus, device);

    private static string VfioDriverOf(string bus) => bus == "pci" ? "vfio-pci" : bus == "amba" ? "vfio-amba" : "vfio-platform";

    private void Write(string path, string value, string step, string? hint) => WriteOrThrow(_sysfs, Device, path, value, step, hint);

    private static void WriteOrThrow(ISysfs sysfs, string device, string path, string value, string step, string? hint)
    {
        var result = sysfs.Write(path, value);
        if (result < 0)
        {
            throw new VfioException(step, device, -result, -result is Errno.EACCES or Errno.EPERM ? "Changing driver bindings needs root." : hint);
        }
    }

    private static bool WaitFor(VfioBindOptions options, Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed >= options.Timeout)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }
}
