namespace Vfio.Native;

/// <summary>The C type a generated member stands for (<c>__u32</c>, <c>struct vfio_info_cap_header</c>),
/// or the <c>#define</c> a constant comes from, as ClangSharp records it.</summary>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Enum | AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.ReturnValue | AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class NativeTypeNameAttribute(string name) : Attribute
{
    /// <summary>The C spelling.</summary>
    public string Name { get; } = name;
}

/// <summary>The header a generated type was ported from (<c>linux/vfio.h</c>).</summary>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Enum | AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NativeHeaderAttribute(string header) : Attribute
{
    /// <summary>The header, as an #include name.</summary>
    public string Header { get; } = header;
}
