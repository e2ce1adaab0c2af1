namespace Vfio.BindGen;

/// <summary>How one generated file is made.</summary>
/// <param name="OutputFile">File name under src/Vfio.Native/Generated.</param>
/// <param name="ConstantsClass">Static class that receives #define constants and anonymous enums.</param>
/// <param name="Includes">Headers of the translation unit, as #include names.</param>
/// <param name="OwnHeaders">Only items declared in these headers are generated (null: <see cref="Includes"/>).</param>
/// <param name="MacroFilter">When set, only macros whose name matches are generated (for libc, whose
/// constants are spread over many internal headers).</param>
/// <param name="RecordFilter">With <paramref name="MacroFilter"/>: the structs to generate, by name.</param>
/// <param name="SystemHeaders">Parse against the C library's headers (/usr/include) instead of the uapi folder alone.</param>
/// <param name="ErrnoNames">Also generate <c>NameOf(int)</c>, mapping each value to its first name.</param>
internal sealed record HeaderSpec(
    string OutputFile,
    string ConstantsClass,
    string[] Includes,
    string[]? OwnHeaders = null,
    string? MacroFilter = null,
    string? RecordFilter = null,
    bool SystemHeaders = false,
    bool ErrnoNames = false)
{
    /// <summary>Everything Vfio.Native binds, in the order it is generated.</summary>
    public static readonly HeaderSpec[] All =
    [
        new("vfio.g.cs", "VfioUapi", ["linux/vfio.h"]),
        new("iommufd.g.cs", "IommufdUapi", ["linux/iommufd.h"]),
        new("errno.g.cs", "Errno", ["asm-generic/errno.h"], OwnHeaders: ["asm-generic/errno-base.h", "asm-generic/errno.h"], ErrnoNames: true),
        new("libc.g.cs", "LibcConstants", ["fcntl.h", "sys/mman.h", "sys/eventfd.h", "poll.h"],
            MacroFilter: "^(O_(RDONLY|WRONLY|RDWR|CREAT|EXCL|CLOEXEC|NONBLOCK|SYNC|TRUNC)|PROT_(NONE|READ|WRITE|EXEC)|MAP_(SHARED|PRIVATE|ANONYMOUS|FIXED|FIXED_NOREPLACE|POPULATE|LOCKED|NORESERVE|HUGETLB|HUGE_SHIFT)|MFD_(CLOEXEC|ALLOW_SEALING|HUGETLB)|EFD_(CLOEXEC|NONBLOCK|SEMAPHORE)|POLL(IN|PRI|OUT|ERR|HUP|NVAL))$",
            RecordFilter: "^pollfd$",
            SystemHeaders: true),
    ];

    /// <summary>The C preprocessor flags this spec is compiled with (shared with the gcc oracle).</summary>
    public string[] Defines => SystemHeaders ? ["-D_GNU_SOURCE"] : [];
}
