using System.Diagnostics;
using Vfio.Native;

namespace Vfio.Platform.Preparation;

/// <summary>Hands a device to VFIO the way the kernel documentation describes it by hand: unbind it from
/// its driver, write the VFIO driver into <c>driver_override</c>, ask the bus to probe it, check that
/// it has an IOMMU group and wait for the group's node. Remembers the original driver and gives the
/// device back on <see cref="Restore"/> or dispose.</summary>
/// <example>
/// <code>
/// using var binding = VfioDeviceBinding.Bind("ff170000.mmc");
/// using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = binding.IsNoIommu });
/// using var group = container.OpenGroup(binding.GroupPath);
/// </code>
/// </example>
public sealed class VfioDeviceBinding : IDisposable
{
    private static readonly string[] Buses = ["platform", "pci", "amba"];
    private readonly ISysfs _sysfs;
    private readonly VfioBindOptions _options;
    private readonly string? _originalOverride;
    private bool _restored;

    private VfioDeviceBinding(ISysfs sysfs, VfioBindOptions options, string device, string bus, string? originalDriver, string? originalOverride)
    {
        _sysfs = sysfs;
        _options = options;
        Device = device;
        Bus = bus;
        OriginalDriver = originalDriver;
        _originalOverride = originalOverride;
        VfioDriver = bus == "pci" ? "vfio-pci" : bus == "amba" ? "vfio-amba" : "vfio-platform";
    }

    /// <summary>The device's sysfs name.</summary>
    public string Device { get; }

    /// <summary><c>platform</c>, <c>pci</c> or <c>amba</c>.</summary>
    public string Bus { get; }

    /// <summary>The driver the device had before (null: none).</summary>
    public string? OriginalDriver { get; }

    /// <summary>The VFIO driver it is bound to now.</summary>
    public string VfioDriver { get; }

    /// <summary>The IOMMU group number.</summary>
    public int GroupNumber { get; private set; }

    /// <summary>The group node: <c>/dev/vfio/N</c>, or <c>/dev/vfio/noiommu-N</c> in no-IOMMU mode.</summary>
    public string GroupPath { get; private set; } = "";

    /// <summary>The group is a no-IOMMU group (no isolation, no DMA mapping).</summary>
    public bool IsNoIommu => Path.GetFileName(GroupPath).StartsWith("noiommu-", StringComparison.Ordinal);

    private string DevicePath => Path.Combine(_sysfs.SysfsRoot, "bus", Bus, "devices", Device);

    /// <summary>Binds <paramref name="device"/> to its VFIO driver (a no-op when it already is).</summary>
    /// <exception cref="VfioException">Each step that fails, with the errno and what to do.</exception>
    public static VfioDeviceBinding Bind(string device, VfioBindOptions? options = null)
    {
        options ??= new VfioBindOptions();
        return Bind(new Sysfs(options.SysfsRoot, options.DevRoot), device, options);
    }

    internal static VfioDeviceBinding Bind(ISysfs sysfs, string device, VfioBindOptions options, bool bindNow = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        if (device.Contains('/', StringComparison.Ordinal) || device is "." or "..")
        {
            throw new VfioException("bind", device, Errno.EINVAL, "A device is named by its sysfs name (ff170000.mmc, 0000:00:01.0), not a path.");
        }

        var bus = Buses.FirstOrDefault(b => sysfs.Exists(Path.Combine(sysfs.SysfsRoot, "bus", b, "devices", device)))
            ?? throw new VfioException("bind", device, Errno.ENODEV, $"No such device under {sysfs.SysfsRoot}/bus/{{platform,pci,amba}}/devices (sdhci-probe list shows the controllers there are).");
        var devicePath = Path.Combine(sysfs.SysfsRoot, "bus", bus, "devices", device);
        var binding = new VfioDeviceBinding(sysfs, options, device, bus,
            sysfs.LinkName(Path.Combine(devicePath, "driver")),
            sysfs.ReadText(Path.Combine(devicePath, "driver_override")));
        if (bindNow)
        {
            binding.BindToVfio();
        }

        return binding;
    }

    private void BindToVfio()
    {
        if (_options.AllowUnsafeInterrupts)
        {
            Write(Path.Combine(_sysfs.SysfsRoot, "module", "vfio_iommu_type1", "parameters", "allow_unsafe_interrupts"), "1",
                "allow unsafe interrupts", "Is vfio_iommu_type1 loaded (modprobe vfio_iommu_type1)?");
        }

        if (OriginalDriver != VfioDriver)
        {
            if (OriginalDriver is not null)
            {
                Write(Path.Combine(DevicePath, "driver", "unbind"), Device, $"unbind from {OriginalDriver}", null);
            }

            Write(Path.Combine(DevicePath, "driver_override"), VfioDriver, "driver_override",
                "The kernel needs driver_override support (Linux 3.16 or later for platform devices).");
            Write(Path.Combine(_sysfs.SysfsRoot, "bus", Bus, "drivers_probe"), Device, "drivers_probe",
                Bus == "platform" ? "For vfio-platform, a device without a reset handler needs vfio-platform.reset_required=0 on the kernel command line." : null);

            var bound = WaitFor(() => _sysfs.LinkName(Path.Combine(DevicePath, "driver")) == VfioDriver);
            if (!bound)
            {
                var now = _sysfs.LinkName(Path.Combine(DevicePath, "driver"));
                throw new VfioException("drivers_probe", Device, Errno.ENODEV,
                    $"{VfioDriver} did not bind the device (it is bound to {now ?? "nothing"}). Is CONFIG_{(Bus == "pci" ? "VFIO_PCI" : "VFIO_PLATFORM")} enabled and the module loaded?" +
                    (Bus == "platform" ? " Without a reset handler vfio-platform refuses the device unless booted with vfio-platform.reset_required=0." : "") + " The kernel log (dmesg) says why.");
            }
        }

        var group = _sysfs.LinkName(Path.Combine(DevicePath, "iommu_group"));
        if (group is null || !int.TryParse(group, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            throw new VfioException("iommu_group", Device, Errno.ENODEV,
                "The device has no IOMMU group: no IOMMU covers it. Boot with vfio.enable_unsafe_noiommu_mode=1 to use it without isolation (sdhci-probe bind --noiommu).");
        }

        GroupNumber = number;
        var vfio = Path.Combine(_sysfs.DevRoot, "vfio");
        string? node = null;
        var appeared = WaitFor(() =>
        {
            node = new[] { Path.Combine(vfio, group), Path.Combine(vfio, $"noiommu-{group}") }.FirstOrDefault(_sysfs.Exists);
            return node is not null;
        });
        GroupPath = appeared ? node! : throw new VfioException("wait for group node", Device, Errno.ETIMEDOUT,
            $"Neither {vfio}/{group} nor {vfio}/noiommu-{group} appeared within {_options.Timeout.TotalSeconds:0.#} s (is devtmpfs mounted, or udev running?).");
    }

    /// <summary>Takes a device away from its VFIO driver in a later process than the one that bound it
    /// (<c>sdhci-probe unbind</c>): unbinds it, clears <c>driver_override</c> and, with
    /// <paramref name="reprobe"/>, lets the bus give it to whichever driver matches (the original one).</summary>
    /// <returns>The driver the device is bound to afterwards, or null.</returns>
    public static string? Release(string device, bool reprobe, VfioBindOptions? options = null)
    {
        options ??= new VfioBindOptions();
        var sysfs = new Sysfs(options.SysfsRoot, options.DevRoot);
        var binding = Bind(sysfs, device, options, bindNow: false);
        binding._restored = true;
        var current = sysfs.LinkName(Path.Combine(binding.DevicePath, "driver"));
        if (current == binding.VfioDriver)
        {
            binding.Write(Path.Combine(binding.DevicePath, "driver", "unbind"), device, $"unbind from {current}", "Close every program that holds the device open first.");
        }

        binding.Write(Path.Combine(binding.DevicePath, "driver_override"), "\n", "driver_override", null);
        if (reprobe)
        {
            binding.Write(Path.Combine(sysfs.SysfsRoot, "bus", binding.Bus, "drivers_probe"), device, "drivers_probe", null);
            binding.WaitFor(() => sysfs.LinkName(Path.Combine(binding.DevicePath, "driver")) is not null);
        }

        return sysfs.LinkName(Path.Combine(binding.DevicePath, "driver"));
    }

    /// <summary>Unbinds the device from VFIO, clears <c>driver_override</c> and lets its original driver
    /// probe it again. Safe to call twice.</summary>
    public void Restore()
    {
        if (_restored)
        {
            return;
        }

        _restored = true;
        if (OriginalDriver == VfioDriver)
        {
            return; // it was ours before we came; leave it so
        }

        if (_sysfs.LinkName(Path.Combine(DevicePath, "driver")) == VfioDriver)
        {
            Write(Path.Combine(DevicePath, "driver", "unbind"), Device, $"unbind from {VfioDriver}", "Close every VFIO descriptor of the device first.");
        }

        // An empty line clears the override (the kernel treats "\n" as none).
        Write(Path.Combine(DevicePath, "driver_override"), string.IsNullOrEmpty(_originalOverride) || _originalOverride == "(null)" ? "\n" : _originalOverride, "driver_override", null);
        if (OriginalDriver is not null)
        {
            Write(Path.Combine(_sysfs.SysfsRoot, "bus", Bus, "drivers_probe"), Device, "drivers_probe", null);
            if (!WaitFor(() => _sysfs.LinkName(Path.Combine(DevicePath, "driver")) == OriginalDriver))
            {
                throw new VfioException("restore", Device, Errno.ENODEV, $"{OriginalDriver} did not take the device back; the kernel log (dmesg) says why.");
            }
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

    private void Write(string path, string value, string step, string? hint)
    {
        var result = _sysfs.Write(path, value);
        if (result < 0)
        {
            throw new VfioException(step, Device, -result, -result is Errno.EACCES or Errno.EPERM ? "Changing driver bindings needs root." : hint);
        }
    }

    private bool WaitFor(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed >= _options.Timeout)
            {
                return false;
            }

            Thread.Sleep(10);
        }

        return true;
    }
}
