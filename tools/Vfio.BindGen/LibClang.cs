using System.Runtime.InteropServices;

namespace Vfio.BindGen;

// The part of libclang's C API (clang-c/Index.h, LLVM 14) the generator needs. Values of the
// enums are libclang's own; the structs are passed by value exactly as the C API declares them.

internal enum CXCursorKind
{
    StructDecl = 2,
    UnionDecl = 3,
    EnumDecl = 5,
    FieldDecl = 6,
    EnumConstantDecl = 7,
    VarDecl = 9,
    MacroDefinition = 501,
}

internal enum CXTypeKind
{
    Invalid = 0,
    Void = 2,
    Bool = 3,
    Char_U = 4,
    UChar = 5,
    UShort = 8,
    UInt = 9,
    ULong = 10,
    ULongLong = 11,
    Char_S = 13,
    SChar = 14,
    Short = 16,
    Int = 17,
    Long = 18,
    LongLong = 19,
    Pointer = 101,
    Record = 105,
    Enum = 106,
    Typedef = 107,
    ConstantArray = 112,
    IncompleteArray = 114,
    Elaborated = 119,
}

internal enum CXChildVisitResult
{
    Break = 0,
    Continue = 1,
    Recurse = 2,
}

internal enum CXEvalResultKind
{
    Int = 1,
    StrLiteral = 4,
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXCursor
{
    public CXCursorKind Kind;
    public int XData;
    public IntPtr Data0, Data1, Data2;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXType
{
    public CXTypeKind Kind;
    public IntPtr Data0, Data1;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXString
{
    public IntPtr Data;
    public uint PrivateFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceLocation
{
    public IntPtr Ptr0, Ptr1;
    public uint IntData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CXSourceRange
{
    public IntPtr Ptr0, Ptr1;
    public uint BeginIntData, EndIntData;
}

[UnmanagedFunctionPointer(CallingConvention.Cdecl)]
internal delegate CXChildVisitResult CXCursorVisitor(CXCursor cursor, CXCursor parent, IntPtr clientData);

internal static partial class LibClang
{
    private const string Lib = "libclang";

    public const uint CXTranslationUnit_DetailedPreprocessingRecord = 0x01;
    public const uint CXTranslationUnit_SkipFunctionBodies = 0x40;
    public const int CXDiagnostic_Error = 3;

    static LibClang()
    {
        // Debian ships libclang as libclang-14.so.1 in the multiarch folder; no unversioned name.
        NativeLibrary.SetDllImportResolver(typeof(LibClang).Assembly, static (name, assembly, path) =>
        {
            if (name != Lib)
            {
                return IntPtr.Zero;
            }

            foreach (var candidate in LibraryCandidates())
            {
                if (NativeLibrary.TryLoad(candidate, out var handle))
                {
                    return handle;
                }
            }

            throw new DllNotFoundException(
                "libclang was not found. Install Debian's libclang1-14 (apt-get install libclang1-14) " +
                "or set VFIO_BINDGEN_LIBCLANG to the path of libclang.so.");
        });
    }

    public static IEnumerable<string> LibraryCandidates()
    {
        if (Environment.GetEnvironmentVariable("VFIO_BINDGEN_LIBCLANG") is { Length: > 0 } explicitPath)
        {
            yield return explicitPath;
        }

        foreach (var triple in new[] { "x86_64-linux-gnu", "aarch64-linux-gnu" })
        {
            yield return $"/usr/lib/{triple}/libclang-14.so.1";
        }

        yield return "/usr/lib/llvm-14/lib/libclang.so.1";
        yield return "libclang.so";
    }

    /// <summary>True when a libclang this generator can use is installed.</summary>
    public static bool IsAvailable() => LibraryCandidates().Any(p => p.StartsWith('/') && File.Exists(p));

    [LibraryImport(Lib)] public static partial IntPtr clang_createIndex(int excludeDeclarationsFromPch, int displayDiagnostics);
    [LibraryImport(Lib)] public static partial void clang_disposeIndex(IntPtr index);
    [LibraryImport(Lib)] public static partial IntPtr clang_parseTranslationUnit(IntPtr index, [MarshalAs(UnmanagedType.LPUTF8Str)] string sourceFilename, IntPtr[] commandLineArgs, int numCommandLineArgs, IntPtr unsavedFiles, uint numUnsavedFiles, uint options);
    [LibraryImport(Lib)] public static partial void clang_disposeTranslationUnit(IntPtr tu);
    [LibraryImport(Lib)] public static partial uint clang_getNumDiagnostics(IntPtr tu);
    [LibraryImport(Lib)] public static partial IntPtr clang_getDiagnostic(IntPtr tu, uint index);
    [LibraryImport(Lib)] public static partial int clang_getDiagnosticSeverity(IntPtr diagnostic);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getDiagnosticLocation(IntPtr diagnostic);
    [LibraryImport(Lib)] public static partial CXString clang_formatDiagnostic(IntPtr diagnostic, uint options);
    [LibraryImport(Lib)] public static partial void clang_disposeDiagnostic(IntPtr diagnostic);
    [LibraryImport(Lib)] public static partial CXCursor clang_getTranslationUnitCursor(IntPtr tu);
    [LibraryImport(Lib)] public static partial uint clang_visitChildren(CXCursor parent, IntPtr visitor, IntPtr clientData);
    [LibraryImport(Lib)] public static partial CXString clang_getCursorSpelling(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getCursorType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getCursorLocation(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXSourceRange clang_getCursorExtent(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getRangeStart(CXSourceRange range);
    [LibraryImport(Lib)] public static partial CXSourceLocation clang_getRangeEnd(CXSourceRange range);
    [LibraryImport(Lib)] public static partial void clang_getSpellingLocation(CXSourceLocation location, out IntPtr file, out uint line, out uint column, out uint offset);
    [LibraryImport(Lib)] public static partial CXString clang_getFileName(IntPtr file);
    [LibraryImport(Lib)] public static partial uint clang_isCursorDefinition(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isAnonymousRecordDecl(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isMacroFunctionLike(CXCursor cursor);
    [LibraryImport(Lib)] public static partial uint clang_Cursor_isMacroBuiltin(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getCanonicalType(CXType type);
    [LibraryImport(Lib)] public static partial CXString clang_getTypeSpelling(CXType type);
    [LibraryImport(Lib)] public static partial long clang_Type_getSizeOf(CXType type);
    [LibraryImport(Lib)] public static partial long clang_Type_getAlignOf(CXType type);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial long clang_Type_getOffsetOf(CXType type, string field);
    [LibraryImport(Lib)] public static partial long clang_Cursor_getOffsetOfField(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXType clang_getArrayElementType(CXType type);
    [LibraryImport(Lib)] public static partial long clang_getArraySize(CXType type);
    [LibraryImport(Lib)] public static partial CXCursor clang_getTypeDeclaration(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_getPointeeType(CXType type);
    [LibraryImport(Lib)] public static partial CXType clang_getEnumDeclIntegerType(CXCursor cursor);
    [LibraryImport(Lib)] public static partial long clang_getEnumConstantDeclValue(CXCursor cursor);
    [LibraryImport(Lib)] public static partial ulong clang_getEnumConstantDeclUnsignedValue(CXCursor cursor);
    [LibraryImport(Lib)] public static partial IntPtr clang_Cursor_Evaluate(CXCursor cursor);
    [LibraryImport(Lib)] public static partial CXEvalResultKind clang_EvalResult_getKind(IntPtr result);
    [LibraryImport(Lib)] public static partial uint clang_EvalResult_isUnsignedInt(IntPtr result);
    [LibraryImport(Lib)] public static partial ulong clang_EvalResult_getAsUnsigned(IntPtr result);
    [LibraryImport(Lib)] public static partial long clang_EvalResult_getAsLongLong(IntPtr result);
    [LibraryImport(Lib)] public static partial IntPtr clang_EvalResult_getAsStr(IntPtr result);
    [LibraryImport(Lib)] public static partial void clang_EvalResult_dispose(IntPtr result);
    [LibraryImport(Lib)] public static partial CXString clang_getClangVersion();
    [LibraryImport(Lib)] private static partial IntPtr clang_getCString(CXString value);
    [LibraryImport(Lib)] private static partial void clang_disposeString(CXString value);

    /// <summary>Copies a CXString into a managed string and frees it.</summary>
    public static string Take(CXString value)
    {
        try
        {
            return Marshal.PtrToStringUTF8(clang_getCString(value)) ?? string.Empty;
        }
        finally
        {
            clang_disposeString(value);
        }
    }
}
