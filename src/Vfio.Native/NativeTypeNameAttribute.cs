namespace Vfio.Native;

/// <summary>The C type a generated member stands for (<c>__u32</c>, <c>struct vfio_info_cap_header</c>),
/// or the <c>#define</c> a constant comes from, as ClangSharp records it.</summary>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Enum | AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.ReturnValue | AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class NativeTypeNameAttribute(string name) : Attribute
{
    /// <summary>The C spelling.</summary>
    public string Name { get; } = name;
}
