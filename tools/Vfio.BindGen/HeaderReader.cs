using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using static Vfio.BindGen.LibClang;

namespace Vfio.BindGen;

/// <summary>Reads structs, unions, enums and #define constants of a header with libclang. Constant
/// values are never re-derived here: every macro is compiled as the initialiser of a variable and
/// clang evaluates it, so ioctl numbers come out exactly as the compiler computes _IOWR().</summary>
internal sealed partial class HeaderReader : IDisposable
{
    private readonly IntPtr _index = clang_createIndex(0, 0);
    private readonly string _uapiInclude;
    private readonly string _workDir = Directory.CreateTempSubdirectory("vfio-bindgen").FullName;
    private readonly Dictionary<string, string> _fileText = [];

    public HeaderReader(string uapiInclude) => _uapiInclude = Path.GetFullPath(uapiInclude);

    public static string ClangVersion => Take(clang_getClangVersion());

    public void Dispose()
    {
        clang_disposeIndex(_index);
        Directory.Delete(_workDir, recursive: true);
    }

    public HeaderModel Read(HeaderSpec spec)
    {
        var model = new HeaderModel();
        var source = string.Concat(spec.Includes.Select(i => $"#include <{i}>\n"));
        var tu = Parse(spec, source, out var errors);
        try
        {
            if (errors.Count > 0)
            {
                throw new InvalidOperationException($"clang could not parse {string.Join(", ", spec.Includes)}:\n{string.Join("\n", errors.Select(e => e.Text))}");
            }

            var own = (spec.OwnHeaders ?? spec.Includes).ToHashSet();
            var macros = new List<(string Name, string Body, string Definition, int Order)>();
            var order = 0;
            foreach (var cursor in Children(clang_getTranslationUnitCursor(tu)))
            {
                order++;
                var file = HeaderOf(cursor);
                if (cursor.Kind == CXCursorKind.MacroDefinition)
                {
                    if (clang_Cursor_isMacroBuiltin(cursor) != 0 || clang_Cursor_isMacroFunctionLike(cursor) != 0)
                    {
                        if (file is not null && own.Contains(file) && spec.MacroFilter is null && clang_Cursor_isMacroFunctionLike(cursor) != 0)
                        {
                            model.Skipped.Add($"{Spelling(cursor)}: function-like macro");
                        }

                        continue;
                    }

                    var name = Spelling(cursor);
                    var wanted = spec.MacroFilter is null ? file is not null && own.Contains(file) : Regex.IsMatch(name, spec.MacroFilter);
                    if (!wanted || macros.Any(m => m.Name == name))
                    {
                        continue;
                    }

                    var (body, definition) = MacroText(cursor, name);
                    if (body.Length > 0)
                    {
                        macros.Add((name, body, definition, order));
                    }

                    continue;
                }

                var declaredHere = spec.MacroFilter is null
                    ? file is not null && own.Contains(file)
                    : spec.RecordFilter is not null && Regex.IsMatch(Spelling(cursor), spec.RecordFilter);
                if (!declaredHere)
                {
                    continue;
                }

                switch (cursor.Kind)
                {
                    case CXCursorKind.StructDecl or CXCursorKind.UnionDecl when clang_isCursorDefinition(cursor) != 0:
                        ReadRecord(cursor, model);
                        break;
                    case CXCursorKind.EnumDecl when clang_isCursorDefinition(cursor) != 0:
                        ReadEnum(cursor, model, order);
                        break;
                }
            }

            EvaluateMacros(spec, source, macros, model);
            model.Constants.Sort((a, b) => a.Order.CompareTo(b.Order));
        }
        finally
        {
            clang_disposeTranslationUnit(tu);
        }

        return model;
    }

    private IntPtr Parse(HeaderSpec spec, string source, out List<(uint Line, string Text)> errors)
    {
        var path = Path.Combine(_workDir, "unit.c");
        File.WriteAllText(path, source);
        var args = new List<string> { "-x", "c", "-std=gnu11", "--target=x86_64-linux-gnu" };
        if (spec.SystemHeaders)
        {
            // glibc's headers want the compiler's own stddef.h/stdarg.h; libclang finds them relative
            // to the library only when the llvm-14 tree is installed, so name the folder when it is there.
            foreach (var resource in Directory.Exists("/usr/lib/llvm-14/lib/clang") ? Directory.GetDirectories("/usr/lib/llvm-14/lib/clang") : [])
            {
                args.Add("-isystem");
                args.Add(Path.Combine(resource, "include"));
            }

            args.Add("-I" + _uapiInclude);
        }
        else
        {
            args.Add("-nostdinc");
            args.Add("-I" + _uapiInclude);
        }

        args.AddRange(spec.Defines);
        var argv = args.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        try
        {
            var tu = clang_parseTranslationUnit(_index, path, argv, argv.Length, IntPtr.Zero, 0,
                CXTranslationUnit_DetailedPreprocessingRecord | CXTranslationUnit_SkipFunctionBodies);
            if (tu == IntPtr.Zero)
            {
                throw new InvalidOperationException($"libclang failed to parse {path}");
            }

            errors = [];
            for (uint i = 0, n = clang_getNumDiagnostics(tu); i < n; i++)
            {
                var diagnostic = clang_getDiagnostic(tu, i);
                if (clang_getDiagnosticSeverity(diagnostic) >= CXDiagnostic_Error)
                {
                    clang_getSpellingLocation(clang_getDiagnosticLocation(diagnostic), out _, out var line, out _, out _);
                    errors.Add((line, Take(clang_formatDiagnostic(diagnostic, 0))));
                }

                clang_disposeDiagnostic(diagnostic);
            }

            return tu;
        }
        finally
        {
            foreach (var arg in argv)
            {
                Marshal.FreeCoTaskMem(arg);
            }
        }
    }

    /// <summary>Compiles every macro as <c>static const __typeof__((M)) v = (M);</c> and lets clang
    /// evaluate it. A macro that is not an integer expression (a type, a statement) fails to compile
    /// on its own line and is reported as skipped.</summary>
    private void EvaluateMacros(HeaderSpec spec, string source, List<(string Name, string Body, string Definition, int Order)> macros, HeaderModel model)
    {
        var pending = new List<(string Name, string Body, string Definition, int Order)>();
        foreach (var macro in macros)
        {
            if (StringLiteral().Match(macro.Body) is { Success: true } literal)
            {
                model.Constants.Add(new ConstantModel { Name = macro.Name, CsType = "string", Value = literal.Groups["v"].Value, Definition = macro.Definition, Order = macro.Order });
            }
            else
            {
                pending.Add(macro);
            }
        }

        const string Prefix = "__bindgen_c_";
        const int FirstLine = 1000;
        var values = new Dictionary<string, ConstantModel>();
        while (pending.Count > 0)
        {
            var unit = new StringBuilder(source).Append($"#line {FirstLine} \"bindgen-constants.c\"\n");
            foreach (var macro in pending)
            {
                unit.Append($"static const __typeof__(({macro.Name})) {Prefix}{macro.Name} = ({macro.Name});\n");
            }

            var tu = Parse(spec, unit.ToString(), out var errors);
            try
            {
                if (errors.Count > 0)
                {
                    var failed = errors.Select(e => (int)e.Line - FirstLine).Where(i => i >= 0 && i < pending.Count).Distinct().OrderDescending().ToList();
                    if (failed.Count == 0)
                    {
                        throw new InvalidOperationException("clang errors outside the constants block:\n" + string.Join("\n", errors.Select(e => e.Text)));
                    }

                    foreach (var i in failed)
                    {
                        model.Skipped.Add($"{pending[i].Name}: not an integer constant expression ({pending[i].Definition})");
                        pending.RemoveAt(i);
                    }

                    continue;
                }

                foreach (var cursor in Children(clang_getTranslationUnitCursor(tu)))
                {
                    var name = Spelling(cursor);
                    if (cursor.Kind != CXCursorKind.VarDecl || !name.StartsWith(Prefix, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var macro = pending.First(m => m.Name == name[Prefix.Length..]);
                    var type = clang_getCanonicalType(clang_getCursorType(cursor));
                    var result = clang_Cursor_Evaluate(cursor);
                    try
                    {
                        if (result == IntPtr.Zero || clang_EvalResult_getKind(result) != CXEvalResultKind.Int)
                        {
                            model.Skipped.Add($"{macro.Name}: clang could not evaluate it ({macro.Definition})");
                            continue;
                        }

                        var csType = Primitive(type.Kind) ?? throw new NotSupportedException($"{macro.Name}: type {Take(clang_getTypeSpelling(type))}");
                        var value = clang_EvalResult_isUnsignedInt(result) != 0
                            ? FormatUnsigned(clang_EvalResult_getAsUnsigned(result))
                            : FormatSigned(clang_EvalResult_getAsLongLong(result), csType);
                        values[macro.Name] = new ConstantModel { Name = macro.Name, CsType = csType, Value = value, Definition = macro.Definition, Order = macro.Order };
                    }
                    finally
                    {
                        if (result != IntPtr.Zero)
                        {
                            clang_EvalResult_dispose(result);
                        }
                    }
                }

                break;
            }
            finally
            {
                clang_disposeTranslationUnit(tu);
            }
        }

        model.Constants.AddRange(values.Values);
    }

    private void ReadRecord(CXCursor cursor, HeaderModel model)
    {
        var record = ReadRecordBody(cursor, Spelling(cursor), model);
        record.CsName = record.CName!;
        model.Records.Add(record);
    }

    private RecordModel ReadRecordBody(CXCursor cursor, string? cName, HeaderModel model)
    {
        var type = clang_getCursorType(cursor);
        var record = new RecordModel
        {
            CName = cName,
            IsUnion = cursor.Kind == CXCursorKind.UnionDecl,
            Size = clang_Type_getSizeOf(type),
            Align = clang_Type_getAlignOf(type),
        };

        var anonymousCount = 0;
        var unnamedTypes = new Dictionary<string, CXCursor>();
        foreach (var child in Children(cursor))
        {
            var name = Spelling(child);
            switch (child.Kind)
            {
                case CXCursorKind.StructDecl or CXCursorKind.UnionDecl when clang_Cursor_isAnonymousRecordDecl(child) != 0:
                {
                    // struct { union { __u32 a; __u32 b; }; }: C promotes a and b into the parent.
                    var kind = child.Kind == CXCursorKind.UnionDecl ? "Union" : "Struct";
                    var fieldName = anonymousCount++ == 0 ? "Anonymous" : $"Anonymous{anonymousCount}";
                    var nested = ReadRecordBody(child, null, model);
                    nested.CsName = $"_{fieldName}_e__{kind}";
                    record.Nested.Add(nested);
                    record.Fields.Add(new FieldModel
                    {
                        Name = fieldName,
                        CsType = nested.CsName,
                        NativeType = WithoutFolders(Take(clang_getTypeSpelling(clang_getCursorType(child)))),
                        Offset = FirstFieldOffset(type, nested),
                        MembersPromoted = nested,
                    });
                    break;
                }

                case CXCursorKind.StructDecl or CXCursorKind.UnionDecl when IsUnnamed(name):
                    unnamedTypes[TypeKey(clang_getCursorType(child))] = child;
                    break;
                case CXCursorKind.StructDecl or CXCursorKind.UnionDecl when clang_isCursorDefinition(child) != 0:
                    ReadRecord(child, model); // a named struct defined inside another is global in C
                    break;
                case CXCursorKind.FieldDecl:
                    ReadField(child, name, record, unnamedTypes, model);
                    if (clang_getCanonicalType(clang_getCursorType(child)).Kind != CXTypeKind.IncompleteArray)
                    {
                        record.FieldsAlign = Math.Max(record.FieldsAlign, clang_Type_getAlignOf(clang_getCursorType(child)));
                    }

                    break;
            }
        }

        foreach (var nested in record.Nested.Where(n => record.Fields.Any(f => f.MembersPromoted == n)))
        {
            record.FieldsAlign = Math.Max(record.FieldsAlign, nested.Align);
        }

        return record;
    }

    private void ReadField(CXCursor field, string name, RecordModel record, Dictionary<string, CXCursor> unnamedTypes, HeaderModel model)
    {
        var declared = clang_getCursorType(field);
        var canonical = clang_getCanonicalType(declared);
        var native = WithoutFolders(Take(clang_getTypeSpelling(declared)));
        var offset = clang_Cursor_getOffsetOfField(field) / 8;

        if (canonical.Kind == CXTypeKind.IncompleteArray)
        {
            record.FlexibleArrays.Add(new FlexibleArrayModel
            {
                Name = name,
                ElementCsType = CsTypeOf(clang_getArrayElementType(canonical), field),
                NativeType = native,
                Offset = offset,
            });
            return;
        }

        if (canonical.Kind == CXTypeKind.ConstantArray)
        {
            var element = clang_getCanonicalType(clang_getArrayElementType(canonical));
            var primitive = Primitive(element.Kind) ?? throw new NotSupportedException($"{record.CName}.{name}: array of {Take(clang_getTypeSpelling(element))} (only arrays of integers are bound)");
            record.Fields.Add(new FieldModel { Name = name, CsType = primitive, NativeType = native, Offset = offset, FixedCount = checked((int)clang_getArraySize(canonical)) });
            return;
        }

        if (canonical.Kind == CXTypeKind.Record && unnamedTypes.TryGetValue(TypeKey(canonical), out var unnamed))
        {
            // union { ... } name;  — a named field of an unnamed type becomes a nested C# type.
            var kind = unnamed.Kind == CXCursorKind.UnionDecl ? "Union" : "Struct";
            var nested = ReadRecordBody(unnamed, null, model);
            nested.CsName = $"_{name}_e__{kind}";
            record.Nested.Add(nested);
            record.Fields.Add(new FieldModel { Name = name, CsType = nested.CsName, NativeType = native, Offset = offset });
            return;
        }

        record.Fields.Add(new FieldModel { Name = name, CsType = CsTypeOf(declared, field), NativeType = native, Offset = offset });
    }

    private static long FirstFieldOffset(CXType parent, RecordModel nested) =>
        nested.Fields.Count == 0 ? 0 : clang_Type_getOffsetOf_Checked(parent, nested.Fields[0].Name);

    private static long clang_Type_getOffsetOf_Checked(CXType parent, string field)
    {
        var bits = clang_Type_getOffsetOf(parent, field);
        return bits < 0 ? throw new InvalidOperationException($"clang has no offset for {field}") : bits / 8;
    }

    private static void ReadEnum(CXCursor cursor, HeaderModel model, int order)
    {
        var name = Spelling(cursor);
        var underlying = clang_getCanonicalType(clang_getEnumDeclIntegerType(cursor));
        var csUnderlying = Primitive(underlying.Kind) ?? throw new NotSupportedException($"enum {name}: {underlying.Kind}");
        var unsigned = csUnderlying is "byte" or "ushort" or "uint" or "ulong";
        var isAnonymous = IsUnnamed(name);
        var model_ = new EnumModel { CName = isAnonymous ? null : name, CsUnderlying = csUnderlying };
        foreach (var member in Children(cursor).Where(c => c.Kind == CXCursorKind.EnumConstantDecl))
        {
            var value = unsigned ? FormatUnsigned(clang_getEnumConstantDeclUnsignedValue(member)) : FormatSigned(clang_getEnumConstantDeclValue(member), csUnderlying);
            model_.Members.Add((Spelling(member), value));
        }

        if (isAnonymous)
        {
            // C gives enumeration constants the type int whatever the enum's underlying type.
            foreach (var (member, _) in model_.Members)
            {
                var signed = clang_getEnumConstantDeclValue(Children(cursor).First(c => Spelling(c) == member));
                model.Constants.Add(new ConstantModel
                {
                    Name = member,
                    CsType = signed is >= int.MinValue and <= int.MaxValue ? "int" : csUnderlying,
                    Value = FormatSigned(signed, "long"),
                    Definition = "enum constant",
                    Order = order,
                });
            }
        }
        else
        {
            model.Enums.Add(model_);
        }
    }

    private static string CsTypeOf(CXType declared, CXCursor where)
    {
        var canonical = clang_getCanonicalType(declared);
        if (Primitive(canonical.Kind) is { } primitive)
        {
            return primitive;
        }

        if (canonical.Kind == CXTypeKind.Pointer)
        {
            var pointee = clang_getCanonicalType(clang_getPointeeType(canonical));
            return (pointee.Kind == CXTypeKind.Void ? "void" : CsTypeOf(pointee, where)) + "*";
        }

        var declaration = clang_getTypeDeclaration(canonical);
        return canonical.Kind switch
        {
            CXTypeKind.Record or CXTypeKind.Enum when !IsUnnamed(Spelling(declaration)) => Spelling(declaration),
            CXTypeKind.Enum => Primitive(clang_getCanonicalType(clang_getEnumDeclIntegerType(declaration)).Kind)!,
            _ => throw new NotSupportedException($"{Spelling(where)}: type {Take(clang_getTypeSpelling(declared))} is not bound"),
        };
    }

    private static string? Primitive(CXTypeKind kind) => kind switch
    {
        CXTypeKind.Bool => "byte",
        CXTypeKind.Char_U or CXTypeKind.UChar => "byte",
        CXTypeKind.Char_S or CXTypeKind.SChar => "sbyte",
        CXTypeKind.UShort => "ushort",
        CXTypeKind.Short => "short",
        CXTypeKind.UInt => "uint",
        CXTypeKind.Int => "int",
        CXTypeKind.ULong => "nuint",
        CXTypeKind.Long => "nint",
        CXTypeKind.ULongLong => "ulong",
        CXTypeKind.LongLong => "long",
        _ => null,
    };

    private static string FormatUnsigned(ulong value) => value < 10 ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"0x{value:X}";

    private static string FormatSigned(long value, string csType) =>
        value >= 10 && csType is not "long" && csType is not "int" ? $"0x{value:X}" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>clang names anonymous types by their absolute path; keep the output machine-independent.</summary>
    private string WithoutFolders(string spelling) =>
        spelling.Replace(_uapiInclude + "/", "", StringComparison.Ordinal).Replace("/usr/include/", "", StringComparison.Ordinal);

    private static bool IsUnnamed(string spelling) => spelling.Length == 0 || spelling.Contains("(unnamed", StringComparison.Ordinal) || spelling.Contains("(anonymous", StringComparison.Ordinal);

    private static string TypeKey(CXType type) => Take(clang_getTypeSpelling(clang_getCanonicalType(type)));

    private static string Spelling(CXCursor cursor) => Take(clang_getCursorSpelling(cursor));

    /// <summary>The #include name of the header that declares a cursor, or null outside the uapi/system folders.</summary>
    private string? HeaderOf(CXCursor cursor)
    {
        clang_getSpellingLocation(clang_getCursorLocation(cursor), out var file, out _, out _, out _);
        if (file == IntPtr.Zero)
        {
            return null;
        }

        var path = Path.GetFullPath(Take(clang_getFileName(file)));
        foreach (var root in new[] { _uapiInclude, "/usr/include" })
        {
            if (path.StartsWith(root + "/", StringComparison.Ordinal))
            {
                return path[(root.Length + 1)..];
            }
        }

        return null;
    }

    /// <summary>The macro's body and its whole definition as written, comments and line breaks folded.</summary>
    private (string Body, string Definition) MacroText(CXCursor cursor, string name)
    {
        var extent = clang_getCursorExtent(cursor);
        clang_getSpellingLocation(clang_getRangeStart(extent), out var file, out _, out _, out var start);
        clang_getSpellingLocation(clang_getRangeEnd(extent), out _, out _, out _, out var end);
        var path = Take(clang_getFileName(file));
        if (!_fileText.TryGetValue(path, out var text))
        {
            _fileText[path] = text = File.ReadAllText(path);
        }

        var raw = text[(int)start..(int)end];
        var folded = Whitespace().Replace(Comment().Replace(raw.Replace("\\\n", " ", StringComparison.Ordinal), " "), " ").Trim();
        var body = folded.StartsWith(name, StringComparison.Ordinal) ? folded[name.Length..].Trim() : folded;
        return (body, $"#define {name} {body}".TrimEnd());
    }

    private static List<CXCursor> Children(CXCursor parent)
    {
        var children = new List<CXCursor>();
        CXCursorVisitor visitor = (cursor, _, _) =>
        {
            children.Add(cursor);
            return CXChildVisitResult.Continue;
        };
        _ = clang_visitChildren(parent, Marshal.GetFunctionPointerForDelegate(visitor), IntPtr.Zero);
        GC.KeepAlive(visitor);
        return children;
    }

    [GeneratedRegex("^\"(?<v>(?:[^\"\\\\]|\\\\.)*)\"$")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
