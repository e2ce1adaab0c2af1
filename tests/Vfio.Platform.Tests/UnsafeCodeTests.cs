using System.Text.RegularExpressions;
using Vfio.TestSupport;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The standard "unsafe code lives in Vfio.Native and the MMIO core, nowhere else", checked on the
/// sources: the keyword in code (comments and strings removed), and AllowUnsafeBlocks in project files.</summary>
public sealed partial class UnsafeCodeTests
{
    private static readonly string[] Allowed = ["src/Vfio.Native/", "src/Vfio.Platform/Mmio/"];

    [Fact]
    public void The_unsafe_keyword_appears_only_in_Vfio_Native_and_the_MMIO_core()
    {
        var root = Repository.Root;
        var offenders = new List<string>();
        var allowedUses = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal))
            {
                continue;
            }

            var code = CommentsAndStrings().Replace(File.ReadAllText(file), " ");
            if (!UnsafeKeyword().IsMatch(code))
            {
                continue;
            }

            if (Allowed.Any(a => relative.StartsWith(a, StringComparison.Ordinal)))
            {
                allowedUses++;
            }
            else
            {
                offenders.Add(relative);
            }
        }

        Assert.Empty(offenders);
        Assert.True(allowedUses >= 3, "the scan found too little unsafe code where it is expected (MmioRegion, MmioView, libc bindings): is it still looking?");
    }

    [Fact]
    public void In_the_MMIO_core_unsafe_marks_members_and_pointer_structs_never_a_whole_class()
    {
        // MmioRegion was an unsafe class; only the members that touch its mapping are unsafe now, so a new
        // member is safe code unless it says otherwise. Structs that are a pointer (MmioBus, MmioView,
        // RegisterBlock) may stay unsafe as a whole: every member of theirs uses it.
        var unsafeClasses = SourcesUnder("src/Vfio.Platform/Mmio/").Where(f => UnsafeClass().IsMatch(f.Code)).Select(f => f.Path);
        var unsafeMembers = SourcesUnder("src/Vfio.Platform/Mmio/").Where(f => f.Path.EndsWith("/MmioRegion.cs", StringComparison.Ordinal))
            .Sum(f => UnsafeKeyword().Count(f.Code));

        Assert.Empty(unsafeClasses);
        Assert.InRange(unsafeMembers, 2, 40); // the field and the accessors: still looking at the right file
        Assert.Matches(UnsafeClass(), "public sealed unsafe class MmioRegion : IDisposable"); // the pattern bites
        Assert.DoesNotMatch(UnsafeClass(), "public readonly unsafe struct MmioBus : IRegisterBus");
    }

    [Fact]
    public void Outside_Vfio_Native_no_code_turns_managed_memory_into_an_address()
    {
        // A pinned array's address handed to the kernel is made in Vfio.Native (Libc.ioctl with a second
        // buffer); the rest of the code passes spans.
        var offenders = SourcesUnder("src/").Where(f => !f.Path.StartsWith("src/Vfio.Native/", StringComparison.Ordinal) && PointerMaking().IsMatch(f.Code))
            .Select(f => $"{f.Path}: {PointerMaking().Match(f.Code).Value}");

        Assert.Empty(offenders);
        Assert.Matches(PointerMaking(), "var p = (ulong)Marshal.UnsafeAddrOfPinnedArrayElement(ranges, 0);"); // the pattern bites
    }

    [Fact]
    public void Only_the_two_projects_allowed_unsafe_code_enable_it()
    {
        var enabling = Directory.EnumerateFiles(Path.Combine(Repository.Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Where(p => File.ReadAllText(p).Contains("<AllowUnsafeBlocks>true", StringComparison.Ordinal))
            .Select(p => Path.GetFileName(p))
            .Order(StringComparer.Ordinal);

        Assert.Equal(["Vfio.Native.csproj", "Vfio.Platform.csproj"], enabling);
    }

    private static IEnumerable<(string Path, string Code)> SourcesUnder(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Repository.Root, folder), "*.cs", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(Repository.Root, file).Replace('\\', '/'))
            .Where(relative => !relative.Contains("/obj/", StringComparison.Ordinal) && !relative.Contains("/bin/", StringComparison.Ordinal))
            .Select(relative => (relative, CommentsAndStrings().Replace(File.ReadAllText(Path.Combine(Repository.Root, relative)), " ")));

    // Line and block comments, verbatim/regular strings and char literals (good enough for our sources).
    [GeneratedRegex("""//[^\n]*|/\*.*?\*/|@"(?:[^"]|"")*"|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])'""", RegexOptions.Singleline)]
    private static partial Regex CommentsAndStrings();

    [GeneratedRegex(@"\bunsafe\b")]
    private static partial Regex UnsafeKeyword();

    // A class declaration with unsafe among its modifiers.
    [GeneratedRegex(@"^[ \t]*(?:\w+[ \t]+)*unsafe[ \t]+(?:\w+[ \t]+)*class[ \t]+\w", RegexOptions.Multiline)]
    private static partial Regex UnsafeClass();

    // The APIs that make an address from managed memory or allocate unmanaged memory.
    [GeneratedRegex(@"\b(?:UnsafeAddrOfPinnedArrayElement|AddrOfPinnedObject|AsPointer|GCHandle|NativeMemory|AllocHGlobal)\b")]
    private static partial Regex PointerMaking();
}
