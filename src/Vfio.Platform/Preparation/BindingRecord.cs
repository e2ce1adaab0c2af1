using System.Text.Json.Serialization;

namespace Vfio.Platform.Preparation;

/// <summary>What a <see cref="VfioDeviceBinding"/> is about to change, written to
/// <c>/run/vfio-net/DEVICE.json</c> before its first sysfs write and removed when the device is given
/// back. A restore reads this record, never the current state, so a process killed half-way (SIGKILL,
/// OOM, power cut of the process) never makes the VFIO driver pass for the original one. <c>/run</c>
/// is a tmpfs: a reboot clears the record together with the bindings it describes.</summary>
public sealed record BindingRecord
{
    /// <summary>The device's sysfs name.</summary>
    public required string Device { get; init; }

    /// <summary><c>platform</c>, <c>pci</c> or <c>amba</c>.</summary>
    public required string Bus { get; init; }

    /// <summary>The driver the device had before the binding (null: none).</summary>
    public string? OriginalDriver { get; init; }

    /// <summary>The device's <c>driver_override</c> before the binding (null: none).</summary>
    public string? OriginalOverride { get; init; }

    /// <summary>The VFIO driver the binding hands the device to.</summary>
    public required string VfioDriver { get; init; }

    /// <summary>Module parameters the binding changes, with the values to put back.</summary>
    public IReadOnlyList<ModuleParameterChange> Parameters { get; init; } = [];

    /// <summary>Who the binding gave the device's VFIO nodes to (null: nobody, they are root's).</summary>
    public VfioNodeOwner? Owner { get; init; }

    /// <summary>The process that made the binding.</summary>
    public int Pid { get; init; }

    /// <summary>That process's start time (<c>/proc/PID/stat</c> field 22), so a reused pid is not taken for it.</summary>
    public long PidStartTime { get; init; }

    /// <summary>True when the binding is meant to outlive its process (given back only on request, as
    /// <c>bind</c> then <c>unbind --restore</c>); false when it belongs to one run and a dead owner means
    /// a crash.</summary>
    public bool Persistent { get; init; }

    /// <summary>When the record was written.</summary>
    public DateTimeOffset Created { get; init; }
}

/// <summary>Source-generated JSON for the records (trim and AOT safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BindingRecord))]
internal sealed partial class BindingRecordJson : JsonSerializerContext;
