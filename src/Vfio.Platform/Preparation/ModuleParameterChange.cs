namespace Vfio.Platform.Preparation;

/// <summary>One module parameter a binding changes (<c>vfio_iommu_type1</c>, <c>allow_unsafe_interrupts</c>).</summary>
/// <param name="Module">The module's name under <c>/sys/module</c>.</param>
/// <param name="Name">The parameter's name.</param>
/// <param name="OldValue">The value before the first binding that changed it.</param>
/// <param name="NewValue">The value the binding writes.</param>
public sealed record ModuleParameterChange(string Module, string Name, string OldValue, string NewValue);
