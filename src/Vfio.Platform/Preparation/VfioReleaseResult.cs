namespace Vfio.Platform.Preparation;

/// <summary>What <see cref="VfioDeviceBinding.Release(string, bool, VfioBindOptions?)"/> left.</summary>
/// <param name="Device">The device.</param>
/// <param name="Driver">The driver it is bound to now (null: none).</param>
/// <param name="Notes">What was left as it is, and why (a parameter another binding still needs).</param>
public sealed record VfioReleaseResult(string Device, string? Driver, IReadOnlyList<string> Notes);
