namespace Vfio.BindGen;

/// <summary>What the generator reads from one header set, in source order.</summary>
internal sealed class HeaderModel
{
    public List<RecordModel> Records { get; } = [];
    public List<EnumModel> Enums { get; } = [];
    public List<ConstantModel> Constants { get; } = [];
    public List<string> Skipped { get; } = [];
}

/// <summary>A struct or union. Nested anonymous records have <see cref="CName"/> null.</summary>
internal sealed class RecordModel
{
    public required string? CName { get; init; }
    public required bool IsUnion { get; init; }
    public required long Size { get; init; }
    public required long Align { get; init; }
    public string CsName { get; set; } = "";

    /// <summary>The largest alignment of the fixed fields. Less than <see cref="Align"/> when only a
    /// flexible array member asks for more, which C# can express only with an explicit layout.</summary>
    public long FieldsAlign { get; set; } = 1;

    public bool NeedsAlignmentField => Align > FieldsAlign;
    public List<FieldModel> Fields { get; } = [];
    public List<RecordModel> Nested { get; } = [];
    public List<FlexibleArrayModel> FlexibleArrays { get; } = [];
    public bool NeedsUnsafe => Fields.Any(f => f.FixedCount > 0 || f.CsType.EndsWith('*')) || Nested.Any(n => n.NeedsUnsafe);
}

/// <summary>A field. <see cref="MembersPromoted"/> is set for an anonymous struct/union member,
/// whose fields C lets you name directly on the parent.</summary>
internal sealed class FieldModel
{
    public required string Name { get; init; }
    public required string CsType { get; init; }
    public required string NativeType { get; init; }
    public required long Offset { get; init; }
    public int FixedCount { get; init; }
    public RecordModel? MembersPromoted { get; init; }
}

internal sealed class FlexibleArrayModel
{
    public required string Name { get; init; }
    public required string ElementCsType { get; init; }
    public required string NativeType { get; init; }
    public required long Offset { get; init; }
}

internal sealed class EnumModel
{
    public required string? CName { get; init; }
    public required string CsUnderlying { get; init; }
    public List<(string Name, string Value)> Members { get; } = [];
}

internal sealed class ConstantModel
{
    public required string Name { get; init; }
    public required string CsType { get; init; }
    public required string Value { get; init; }
    public required string Definition { get; init; }

    /// <summary>Position in the translation unit, so constants keep the header's order.</summary>
    public int Order { get; init; }
}
