namespace Vfio.Native;

/// <summary>The header a generated type was ported from (<c>linux/vfio.h</c>).</summary>
[AttributeUsage(AttributeTargets.Struct | AttributeTargets.Enum | AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NativeHeaderAttribute(string header) : Attribute
{
    /// <summary>The header, as an #include name.</summary>
    public string Header { get; } = header;
}
