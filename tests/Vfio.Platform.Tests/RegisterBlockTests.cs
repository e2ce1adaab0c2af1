using System.Reflection;
using Vfio.Native;
using Vfio.Platform.Mmio;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The register-block model: registers checked against their block when declared, the block
/// checked against the region once when bound, typed fields, access kinds, the unmapped path.</summary>
public sealed class RegisterBlockTests
{
    [Fact]
    public void A_bound_block_reads_and_writes_its_registers_where_the_region_has_them()
    {
        using var region = MmioRegion.CreateShared(0x100);
        var regs = region.Bind<TestSdhci>();
        Assert.True(regs.IsBound);
        Assert.Same(region, regs.Bus.Region);

        regs.Write(TestSdhci.HostControl1, 0x5A);
        regs.Write(TestSdhci.ClockControl, 0x1234);
        regs.Write(TestSdhci.Status, 0xDEAD_BEEF);
        regs.Write(TestSdhci.Command, 0x0102);
        region.Write64(0x40, 0x0123_4567_89AB_CDEF);

        Assert.Equal(0x5A, region.Read8(0x28));
        Assert.Equal(0x1234, region.Read16(0x2C));
        Assert.Equal(0xDEAD_BEEFu, region.Read32(0x30));
        Assert.Equal(0x0102, region.Read16(0x0E));
        Assert.Equal(0x0123_4567_89AB_CDEFUL, regs.Read(TestSdhci.Capabilities64));
        Assert.Equal(0xBEEF, regs.Read(TestSdhci.NormalInterruptStatus));
        Assert.Equal(0xDEAD_BEEFu, region.Read(TestSdhci.Status)); // the region's checked overload, same register
    }

    [Fact]
    public void A_block_bound_at_an_offset_addresses_its_registers_from_there()
    {
        using var region = MmioRegion.CreateShared(0x1000);
        var regs = region.Bind<TestSdhci>(0x200);
        Assert.Equal(0x200, regs.Bus.Offset);

        regs.Write(TestSdhci.Status, 0x600D);
        Assert.Equal(0x600Du, region.Read32(0x230));
        Assert.Equal(0u, region.Read32(0x30));

        var last = region.Bind<TestSdhci>(0x1000 - TestSdhci.Size);
        last.Write(TestSdhci.Version, 0x0302);
        Assert.Equal(0x0302, region.Read16(0xFFE));
    }

    [Fact]
    public void Binding_checks_the_region_once_size_alignment_mapping_and_disposal()
    {
        using var small = MmioRegion.CreateShared(0xFF);
        Assert.Contains("does not fit", Assert.Throws<ArgumentOutOfRangeException>(() => small.Bind<TestSdhci>()).Message, StringComparison.Ordinal);

        using var region = MmioRegion.CreateShared(0x1000);
        Assert.Throws<ArgumentOutOfRangeException>(() => region.Bind<TestSdhci>(0x1000 - 0xF8));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.Bind<TestSdhci>(-8));
        Assert.Throws<ArgumentOutOfRangeException>(() => region.Bind<TestSdhci>(long.MaxValue));
        var misaligned = Assert.Throws<ArgumentOutOfRangeException>(() => region.Bind<TestSdhci>(0x104));
        Assert.Contains("aligned", misaligned.Message, StringComparison.Ordinal);
        Assert.Contains("TestSdhci", misaligned.Message, StringComparison.Ordinal);

        region.Dispose();
        Assert.Throws<ObjectDisposedException>(() => region.Bind<TestSdhci>());
    }

    [Fact]
    public void A_region_reached_through_pread_and_pwrite_refuses_a_block_and_serves_the_same_registers_checked()
    {
        using var region = MmioRegion.CreateShared(0x100, mapped: false);
        Assert.False(region.IsMapped);
        var e = Assert.Throws<VfioException>(() => region.Bind<TestSdhci>());
        Assert.Equal(Errno.EOPNOTSUPP, e.Errno);
        Assert.Contains("pread/pwrite", e.Message, StringComparison.Ordinal);

        // The slow path: the same register declarations through the region's own accessors.
        region.Write(TestSdhci.HostControl2, (ushort)0x000A);
        region.Write(TestSdhci.Status, 0x8001u);
        Assert.Equal(0x000A, region.Read(TestSdhci.HostControl2));
        Assert.Equal(0x8001u, region.Read32(0x30));
        Assert.Equal(0x8003u, region.Modify(TestSdhci.Status, clear: 0, set: 2));
        Assert.Equal(0x8003u, region.Read32(0x30));
    }

    [Fact]
    public void A_register_outside_its_block_or_misaligned_cannot_be_declared()
    {
        Assert.Equal(0xFC, new Register32<TestSdhci, Access.ReadWrite>(0xFC).Offset);
        Assert.Equal(0xF8, new Register64<TestSdhci, Access.ReadOnly>(0xF8).Offset);
        Assert.Equal(0xFF, new Register8<TestSdhci, Access.ReadOnly>(0xFF).Offset);

        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => new Register32<TestSdhci, Access.ReadWrite>(0xFE));
        Assert.Contains("0xfe", outside.Message, StringComparison.Ordinal);
        Assert.Contains("TestSdhci", outside.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Register32<TestSdhci, Access.ReadWrite>(0x100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Register8<TestSdhci, Access.ReadWrite>(0x100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Register16<TestSdhci, Access.ReadWrite>(-2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Register64<TestSdhci, Access.ReadWrite>(0xFC));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Register16<TestSdhci, Access.ReadWrite>(0x31));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Register32<TestSdhci, Access.ReadWrite>(0x32));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Register64<TestSdhci, Access.ReadWrite>(0x44));

        // Declared as statics (the usual way), a bad declaration stops the block's type from initialising.
        var e = Assert.Throws<TypeInitializationException>(() => BadBlock.Touch());
        Assert.IsType<ArgumentOutOfRangeException>(e.InnerException);
    }

    [Fact]
    public void Registers_describe_themselves_for_dumps()
    {
        Assert.Equal(0x24, TestSdhci.PresentState.Offset);
        Assert.Equal(4, TestSdhci.PresentState.Width);
        Assert.Equal(1, TestSdhci.HostControl1.Width);
        Assert.Equal(2, TestSdhci.HostControl2.Width);
        Assert.Equal(8, TestSdhci.Capabilities64.Width);
        Assert.Equal(RegisterAccessKind.ReadOnly, TestSdhci.PresentState.Access);
        Assert.Equal(RegisterAccessKind.WriteOneToClear, TestSdhci.NormalInterruptStatus.Access);
        Assert.Equal(RegisterAccessKind.DataPort, TestSdhci.BufferData.Access);
        Assert.Equal(RegisterAccessKind.WriteOnly, TestSdhci.Command.Access);
        Assert.Equal(RegisterAccessKind.ReadWrite, TestSdhci.HostControl2.Access);
        Assert.Equal("TestSdhci 0x24 (32-bit)", TestSdhci.PresentState.ToString());
    }

    [Fact]
    public void Access_kinds_allow_at_compile_time_only_what_they_permit()
    {
        // What the compiler enforces, stated on the types: which kinds are readable and writable...
        Assert.True(typeof(Access.IReadable).IsAssignableFrom(typeof(Access.ReadOnly)));
        Assert.False(typeof(Access.IWritable).IsAssignableFrom(typeof(Access.ReadOnly)));
        Assert.False(typeof(Access.IReadable).IsAssignableFrom(typeof(Access.WriteOnly)));
        Assert.True(typeof(Access.IWritable).IsAssignableFrom(typeof(Access.WriteOnly)));
        foreach (var both in new[] { typeof(Access.ReadWrite), typeof(Access.WriteOneToClear), typeof(Access.DataPort) })
        {
            Assert.True(typeof(Access.IReadable).IsAssignableFrom(both));
            Assert.True(typeof(Access.IWritable).IsAssignableFrom(both));
        }

        // ... that Read/Write demand them, and that read-modify-write and repeated accesses take one kind only.
        var methods = typeof(RegisterBlock<TestSdhci, MmioBus>).GetMethods(BindingFlags.Public | BindingFlags.Instance);
        Assert.All(methods.Where(m => m.Name == "Read"),
            m => Assert.Contains(typeof(Access.IReadable), m.GetGenericArguments()[0].GetGenericParameterConstraints()));
        Assert.All(methods.Where(m => m.Name == "Write"),
            m => Assert.Contains(typeof(Access.IWritable), m.GetGenericArguments()[0].GetGenericParameterConstraints()));
        var modifies = methods.Where(m => m.Name == "Modify").ToList();
        Assert.Equal(12, modifies.Count);
        Assert.All(modifies, m => Assert.Equal(typeof(Access.ReadWrite), m.GetParameters()[0].ParameterType.GetGenericArguments()[1]));
        Assert.All(methods.Where(m => m.Name is "ReadRepeated" or "WriteRepeated"),
            m => Assert.Equal(typeof(Access.DataPort), m.GetParameters()[0].ParameterType.GetGenericArguments()[1]));
    }

    [Fact]
    public void Typed_fields_read_and_modify_one_field_and_leave_the_others()
    {
        using var region = MmioRegion.CreateShared(0x100);
        var regs = region.Bind<TestSdhci>();
        regs.Write(TestSdhci.HostControl2, 0x8000); // Preset Value Enable, above the fields

        Assert.Equal(0x8002, regs.Modify(TestSdhci.HostControl2, TestSdhci.UhsModeSelect, UhsMode.Sdr50));
        Assert.Equal(0x800A, regs.Modify(TestSdhci.HostControl2, TestSdhci.Signalling18V, true));
        Assert.Equal(0x803C, regs.Modify(TestSdhci.HostControl2, TestSdhci.UhsModeSelect, UhsMode.Ddr50, TestSdhci.DriverStrength, (byte)3));
        var value = regs.Read(TestSdhci.HostControl2);
        Assert.Equal(UhsMode.Ddr50, TestSdhci.UhsModeSelect.Get(value));
        Assert.True(TestSdhci.Signalling18V.Get(value));
        Assert.Equal(3, TestSdhci.DriverStrength.Get(value));
        Assert.Equal(0x8034, regs.Modify(TestSdhci.HostControl2, TestSdhci.Signalling18V, false));
        Assert.Equal(0x0038u, TestSdhci.UhsModeSelect.With(0x003Cu, UhsMode.Sdr12));
        Assert.Equal(0x30UL, TestSdhci.DriverStrength.Mask);
        Assert.Equal("bits 0..2 (UhsMode)", TestSdhci.UhsModeSelect.ToString());

        // A value wider than its field, or a field above the register's width, is refused before any access.
        Assert.Throws<ArgumentOutOfRangeException>(() => regs.Modify(TestSdhci.HostControl2, TestSdhci.UhsModeSelect, (UhsMode)8));
        Assert.Throws<ArgumentException>(() => regs.Modify(TestSdhci.HostControl2, TestSdhci.CardDetect, true));
        Assert.Throws<ArgumentException>(() => TestSdhci.CardDetect.With(0u, true) + new BitField<bool>(40, 1).With(0u, true));
        Assert.Equal(0x8034, regs.Read(TestSdhci.HostControl2));

        // Fields that do not fit their value type or a 64-bit register cannot be declared.
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitField<bool>(0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitField<byte>(0, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitField<ulong>(60, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitField<uint>(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitField<uint>(0, 0));
        Assert.Throws<NotSupportedException>(() => new BitField<Guid>(0, 1));
        Assert.Equal(ulong.MaxValue, new BitField<ulong>(0, 64).Mask);
    }

    [Fact]
    public void Modify_with_masks_and_data_ports()
    {
        using var region = MmioRegion.CreateShared(0x100);
        var regs = region.Bind<TestSdhci>();
        regs.Write(TestSdhci.Status, 0x8001);
        Assert.Equal(0x8003u, regs.Modify(TestSdhci.Status, clear: 0, set: 2));
        Assert.Equal(0x0003u, regs.Modify(TestSdhci.Status, clear: 0x8000, set: 0));
        Assert.Equal((byte)0x0F, regs.Modify(TestSdhci.HostControl1, clear: 0xF0, set: 0x0F));
        Assert.Equal((ushort)0x0105, regs.Modify(TestSdhci.ClockControl, clear: 0, set: 0x0105));

        regs.WriteRepeated(TestSdhci.BufferData, [1, 2, 3]);
        Assert.Equal(3u, region.Read32(0x20)); // one address: the last write stays in memory
        Span<uint> words = stackalloc uint[4];
        regs.ReadRepeated(TestSdhci.BufferData, words);
        Assert.Equal([3u, 3u, 3u, 3u], words.ToArray());
    }

    [Fact]
    public void Disposing_a_region_with_a_bound_block_leaves_its_addresses_reserved_and_inaccessible()
    {
        var region = MmioRegion.CreateShared(0x2000);
        var regs = region.Bind<TestSdhci>(0x1000);
        regs.Write(TestSdhci.Status, 1);
        var mapping = regs.Address - 0x1000;
        Assert.Equal("rw-s", Permissions(mapping));

        region.Dispose();

        // Still taken (nothing else can be mapped there) and inaccessible: a stale access faults.
        Assert.Equal("---p", Permissions(mapping));
        Assert.Throws<ObjectDisposedException>(() => region.Bind<TestSdhci>());
        region.Dispose(); // twice: nothing more happens
        Assert.Equal("---p", Permissions(mapping));
    }

    [Fact]
    public void A_default_block_is_not_bound()
    {
        var regs = default(RegisterBlock<TestSdhci, MmioBus>);
        Assert.False(regs.IsBound);
        Assert.Null(regs.Bus.Region);
    }

    [Fact]
    public void Named_accesses_of_a_bound_block_allocate_nothing()
    {
        using var region = MmioRegion.CreateShared(0x100);
        var regs = region.Bind<TestSdhci>();
        ulong sum = Loop(regs, 10); // warm up (tiering, statics)

        var before = GC.GetAllocatedBytesForCurrentThread();
        sum += Loop(regs, 10_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotEqual(0UL, sum);

        static ulong Loop(RegisterBlock<TestSdhci, MmioBus> regs, int n)
        {
            ulong sum = 0;
            for (var i = 0; i < n; i++)
            {
                regs.Write(TestSdhci.Status, (uint)i | 1);
                sum += regs.Read(TestSdhci.Status) + regs.Read(TestSdhci.HostControl1) + regs.Read(TestSdhci.Capabilities64);
                regs.Modify(TestSdhci.HostControl2, TestSdhci.UhsModeSelect, (UhsMode)(i % 5));
                regs.Modify(TestSdhci.HostControl2, TestSdhci.Signalling18V, (i & 1) != 0, TestSdhci.DriverStrength, (byte)(i & 3));
                sum += (ulong)TestSdhci.UhsModeSelect.Get(regs.Read(TestSdhci.HostControl2));
            }

            return sum;
        }
    }

    /// <summary>The permissions of the mapping that holds <paramref name="address"/>, from /proc/self/maps (an
    /// anonymous reservation may merge with its neighbours, so look for the range that contains it).</summary>
    private static string Permissions(nint address)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var range = line[..line.IndexOf(' ', StringComparison.Ordinal)].Split('-');
            var start = ulong.Parse(range[0], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            var end = ulong.Parse(range[1], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            if ((ulong)address >= start && (ulong)address < end)
            {
                return line.Split(' ')[1];
            }
        }

        return "none";
    }

    private readonly struct BadBlock : IRegisterBlock
    {
        public static string Name => "Bad";

        public static int Size => 0x10;

        public static readonly Register32<BadBlock, Access.ReadWrite> Fits = new(0x0C);
        public static readonly Register32<BadBlock, Access.ReadWrite> DoesNot = new(0x10);

        public static int Touch() => Fits.Offset + DoesNot.Offset;
    }
}
