using Vfio.Platform.Preparation;

namespace Sdhci.Probe.Commands;

/// <summary>One controller as <c>status</c> shows it: who has it, what its binding record says, and
/// what <c>unbind --restore</c> would do.</summary>
internal sealed record StatusEntry(
    string Device,
    string? Driver,
    bool Recorded,
    string? OriginalDriver,
    string? OriginalOverride,
    IReadOnlyList<ModuleParameterChange> Parameters,
    int? Pid,
    bool? OwnerRunning,
    bool? Persistent,
    IReadOnlyList<string> RestoreSteps);
