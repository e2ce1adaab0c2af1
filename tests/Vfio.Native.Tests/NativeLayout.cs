using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

#pragma warning disable CA1305 // invariant by construction: integers only

namespace Vfio.Native.Tests;

/// <summary>One fact about the bindings that C can state too: the C expression that computes it and
/// the value the C# side has. The gcc oracle compiles <see cref="CExpression"/> and compares.</summary>
internal sealed record AbiItem(string Key, string CExpression, string CSharpValue, bool IsString = false);

/// <summary>Walks the generated types by reflection and lists every size, alignment, field offset,
/// field size, constant value, constant width and signedness. Nothing here comes from the generator's
/// own bookkeeping: sizes and offsets are what the .NET runtime lays out.</summary>
internal static class NativeLayout
{
    public static IReadOnlyList<Type> GeneratedTypes { get; } =
        typeof(VfioUapi).Assembly.GetTypes().Where(t => t.GetCustomAttribute<NativeHeaderAttribute>() is not null).OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();

    /// <summary>Structs and constants written by hand in src/Vfio.Native/Libc (the descriptor handover's
    /// socket calls), with the header each comes from: held against gcc exactly as the generated ones are.</summary>
    public static IReadOnlyList<(Type Type, string Header)> HandWrittenTypes { get; } =
    [
        (typeof(iovec), "sys/uio.h"),
        (typeof(msghdr), "sys/socket.h"),
        (typeof(cmsghdr), "sys/socket.h"),
        (typeof(SocketConstants), "sys/socket.h"),
    ];

    /// <summary>The #include lines the generated and hand-written types came from.</summary>
    public static IReadOnlyList<string> Headers { get; } =
        GeneratedTypes.SelectMany(t => t.GetCustomAttribute<NativeHeaderAttribute>()!.Header.Split(", "))
            .Concat(HandWrittenTypes.Select(t => t.Header)).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>The C# side as "key TAB value" lines, the oracle's format (printed by the guest checks on arm64).</summary>
    public static string Print() => string.Concat(Items().Select(i => $"{i.Key}\t{i.CSharpValue}\n"));

    public static IEnumerable<AbiItem> Items()
    {
        foreach (var type in GeneratedTypes.Concat(HandWrittenTypes.Select(t => t.Type)))
        {
            if (type.IsEnum)
            {
                foreach (var item in EnumItems(type))
                {
                    yield return item;
                }
            }
            else if (type.IsValueType)
            {
                foreach (var item in RecordItems(type))
                {
                    yield return item;
                }
            }
            else
            {
                foreach (var item in ConstantItems(type))
                {
                    yield return item;
                }
            }
        }

        foreach (var item in CmsgMacroItems())
        {
            yield return item;
        }
    }

    /// <summary>The CMSG_* macros, which the hand-written <see cref="cmsghdr"/> has as methods, for
    /// the descriptor counts a handover uses and one that needs padding.</summary>
    private static IEnumerable<AbiItem> CmsgMacroItems()
    {
        foreach (var length in new[] { 0, 4, 8, 12, 16 })
        {
            yield return new($"CMSG_LEN {length}", $"CMSG_LEN({length})", Libc.CMSG_LEN(length).ToString());
            yield return new($"CMSG_SPACE {length}", $"CMSG_SPACE({length})", Libc.CMSG_SPACE(length).ToString());
        }
    }

    private static IEnumerable<AbiItem> RecordItems(Type type)
    {
        var cType = type.GetCustomAttribute<NativeTypeNameAttribute>()!.Name; // "struct vfio_irq_set"
        yield return new($"sizeof {cType}", $"sizeof({cType})", SizeOf(type).ToString());
        yield return new($"alignof {cType}", $"_Alignof({cType})", AlignOf(type).ToString());
        foreach (var item in FieldItems(type, cType, cPrefix: "", baseOffset: 0))
        {
            yield return item;
        }

        // Flexible array members: the offset constant and the element type of the accessor.
        foreach (var offset in type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral && f.Name.EndsWith("_Offset", StringComparison.Ordinal)))
        {
            var name = offset.Name[..^"_Offset".Length];
            yield return new($"offsetof {cType}.{name}", $"offsetof({cType}, {name})", offset.GetRawConstantValue()!.ToString()!);
            var accessor = type.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
            var element = accessor.ReturnType.GetGenericArguments()[0];
            yield return new($"elementsize {cType}.{name}", $"sizeof((({cType} *)0)->{name}[0])", SizeOf(element).ToString());
        }
    }

    private static IEnumerable<AbiItem> FieldItems(Type type, string cType, string cPrefix, long baseOffset)
    {
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            var offset = baseOffset + Marshal.OffsetOf(type, field.Name).ToInt64();
            var isNestedRecord = field.FieldType.IsNested && field.FieldType.DeclaringType == type && field.FieldType.Name.StartsWith('_');
            if (isNestedRecord && field.Name.StartsWith("Anonymous", StringComparison.Ordinal))
            {
                // C names the members of an anonymous struct/union as members of the parent.
                foreach (var item in FieldItems(field.FieldType, cType, cPrefix, offset))
                {
                    yield return item;
                }

                continue;
            }

            var path = cPrefix + field.Name;
            yield return new($"offsetof {cType}.{path}", $"offsetof({cType}, {path})", offset.ToString());
            yield return new($"fieldsize {cType}.{path}", $"sizeof((({cType} *)0)->{path})", SizeOf(field.FieldType).ToString());
            if (isNestedRecord)
            {
                foreach (var item in FieldItems(field.FieldType, cType, path + ".", offset))
                {
                    yield return item;
                }
            }
        }
    }

    private static IEnumerable<AbiItem> EnumItems(Type type)
    {
        var cType = type.GetCustomAttribute<NativeTypeNameAttribute>()!.Name;
        var underlying = Enum.GetUnderlyingType(type);
        yield return new($"sizeof {cType}", $"sizeof({cType})", SizeOf(underlying).ToString());
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            yield return new($"value {field.Name}", field.Name, AsLongLong(Convert.ChangeType(field.GetRawConstantValue()!, underlying, null)!));
        }
    }

    private static IEnumerable<AbiItem> ConstantItems(Type type)
    {
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
        {
            var value = field.GetRawConstantValue()!;
            if (value is string text)
            {
                yield return new($"string {field.Name}", field.Name, text, IsString: true);
                continue;
            }

            yield return new($"value {field.Name}", field.Name, AsLongLong(value));
            yield return new($"size {field.Name}", $"sizeof({field.Name})", SizeOf(field.FieldType).ToString());
            yield return new($"signed {field.Name}", $"((__typeof__({field.Name}))-1 < 0)", IsSigned(field.FieldType) ? "1" : "0");
        }
    }

    private static string AsLongLong(object value) => value switch
    {
        ulong u => unchecked((long)u).ToString(),
        nuint u => unchecked((long)(ulong)u).ToString(),
        _ => Convert.ToInt64(value).ToString(),
    };

    private static bool IsSigned(Type type) => type == typeof(sbyte) || type == typeof(short) || type == typeof(int) || type == typeof(long) || type == typeof(nint);

    public static int SizeOf(Type type) => type.IsPointer ? IntPtr.Size : (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;

    public static int AlignOf(Type type) => (int)typeof(NativeLayout).GetMethod(nameof(AlignOfGeneric), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type).Invoke(null, null)!;

    private static int AlignOfGeneric<T>()
        where T : unmanaged
    {
        var probe = default(AlignProbe<T>);
        return (int)Unsafe.ByteOffset(ref Unsafe.As<AlignProbe<T>, byte>(ref probe), ref Unsafe.As<T, byte>(ref probe.Value));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct AlignProbe<T>
        where T : unmanaged
    {
        public byte Pad;
        public T Value;
    }
}
