using System.Reflection;
using Sdhci.Probe.Sdhci;
using Vfio.Platform.Mmio;
using Xunit;

namespace Sdhci.Probe.Tests;

public class RegisterModelTests
{
    public static TheoryData<string> Blocks => ["standard", "arasan vendor", "arasan cqe"];

    private static IReadOnlyList<SdhciRegister> Block(string name) => name switch
    {
        "standard" => SdhciRegisters.All,
        "arasan vendor" => ArasanRegisters.Vendor,
        _ => ArasanRegisters.Cqe,
    };

    [Theory]
    [MemberData(nameof(Blocks))]
    public void Registers_are_in_address_order_aligned_and_do_not_overlap(string block)
    {
        var registers = Block(block);

        foreach (var (previous, next) in registers.Zip(registers.Skip(1)))
            Assert.True(previous.Offset + previous.Width <= next.Offset, $"{previous} overlaps or precedes {next}");
        Assert.All(registers, r => Assert.Equal(0, r.Offset % Math.Min(r.Width, 4)));
    }

    [Fact]
    public void Standard_block_holds_the_spec_3_00_register_map()
    {
        var map = SdhciRegisters.All.ToDictionary(r => r.Offset, r => r.Width);

        var expected = new Dictionary<int, int>
        {
            [0x00] = 4, [0x04] = 2, [0x06] = 2, [0x08] = 4, [0x0C] = 2, [0x0E] = 2,
            [0x10] = 4, [0x14] = 4, [0x18] = 4, [0x1C] = 4, [0x20] = 4, [0x24] = 4,
            [0x28] = 1, [0x29] = 1, [0x2A] = 1, [0x2B] = 1, [0x2C] = 2, [0x2E] = 1, [0x2F] = 1,
            [0x30] = 2, [0x32] = 2, [0x34] = 2, [0x36] = 2, [0x38] = 2, [0x3A] = 2, [0x3C] = 2, [0x3E] = 2,
            [0x40] = 8, [0x48] = 4, [0x50] = 2, [0x52] = 2, [0x54] = 1, [0x58] = 8,
            [0x60] = 2, [0x62] = 2, [0x64] = 2, [0x66] = 2, [0x68] = 2, [0x6A] = 2, [0x6C] = 2, [0x6E] = 2,
            [0xE0] = 4, [0xFC] = 2, [0xFE] = 2,
        };
        Assert.Equal(expected.OrderBy(p => p.Key), map.OrderBy(p => p.Key));
        Assert.All(SdhciRegisters.All, r => Assert.True(r.Offset + r.Width <= SdhciBlock.Size));
        Assert.Equal(SdhciRegisterAccess.DataPort, SdhciRegisters.BufferDataPort.Access);
        Assert.Single(SdhciRegisters.All, r => r.Access == SdhciRegisterAccess.DataPort);
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void Fields_fit_their_register_and_do_not_overlap(string block)
    {
        foreach (var register in Block(block))
        {
            ulong seen = 0;
            foreach (var field in register.Fields)
            {
                Assert.True(field.Shift + field.Width <= register.Width * 8, $"{field} does not fit {register}");
                Assert.True((seen & field.Mask) == 0, $"{field} overlaps another field of {register}");
                seen |= field.Mask;
            }

            Assert.Equal(register.Fields.Count, register.Fields.Select(f => f.Name).Distinct().Count());
        }
    }

    [Fact]
    public void Arasan_vendor_register_is_at_0x78_in_the_standard_blocks_reserved_space_and_the_CQE_at_0x200()
    {
        Assert.Equal(0x78, ArasanRegisters.VendorRegister.Offset);
        Assert.DoesNotContain(SdhciRegisters.All, r => r.Offset <= 0x78 && r.Offset + r.Width > 0x78);
        Assert.Equal(0x200, ArasanRegisters.Cqe[0].Offset);
        Assert.Equal(0x25C, ArasanRegisters.CqResponseArgument.Offset);
        Assert.All(ArasanRegisters.Cqe, r => Assert.True(r.Offset + r.Width <= 0x1000));
    }

    [Fact]
    public void Interrupt_registers_name_each_bit_after_SdhciInterrupt()
    {
        var normal = SdhciRegisters.NormalInterruptStatus.Fields;
        var error = SdhciRegisters.ErrorInterruptStatus.Fields;

        Assert.Equal(("CommandComplete", 0), (normal[0].Name, normal[0].Shift));
        Assert.Contains(normal, f => f.Name == "ErrorInterrupt" && f.Shift == 15);
        Assert.Equal(("CommandTimeoutError", 0), (error[0].Name, error[0].Shift));
        Assert.Contains(error, f => f.Name == "AdmaError" && f.Shift == 9);
        Assert.Equal(Enum.GetValues<SdhciInterrupt>().Length - 1, normal.Count + error.Count);
        Assert.Same(normal, SdhciRegisters.NormalInterruptSignalEnable.Fields);
    }

    [Fact]
    public void Field_insert_and_extract_are_inverse_and_leave_other_bits_alone()
    {
        var divider = SdhciRegisters.ClockControlFields.SdclkFrequencySelect;

        var value = divider.Insert(0x0007, 0x7d);

        Assert.Equal(0x7d07UL, value);
        Assert.Equal(0x7dUL, divider.Extract(value));
        Assert.Equal("15:8", divider.Bits);
        Assert.Equal(0xFF00UL, divider.Mask);
        Assert.Throws<ArgumentOutOfRangeException>(() => divider.Insert(0, 0x100));
    }

    [Fact]
    public void Width_correct_writes_go_through_the_register_model()
    {
        var fake = new FakeSdhciController();

        fake.Write(SdhciRegisters.ClockControl, 0x7d07);
        fake.Write(SdhciRegisters.AdmaSystemAddress, 0x0000000112345000);

        Assert.Equal(0x7d07, fake.Read16(0x2C));
        Assert.Equal(0x12345000u, fake.Read32(0x58));
        Assert.Equal(0x00000001u, fake.Read32(0x5C));
        Assert.Throws<ArgumentOutOfRangeException>(() => fake.Write(SdhciRegisters.HostControl1, 0x100));
        Assert.Throws<InvalidOperationException>(() => fake.Write(SdhciRegisters.PresentState, 0));
        Assert.Throws<InvalidOperationException>(() => fake.Read(SdhciRegisters.ForceEventAutoCmdError));
    }

    [Fact]
    public void Snapshot_refuses_a_value_for_the_data_port_and_duplicates()
    {
        Assert.Throws<ArgumentException>(() => new SdhciSnapshot(0x100, [new(SdhciRegisters.BufferDataPort, 0)]));
        Assert.Throws<ArgumentException>(() => new SdhciSnapshot(0x100,
            [new(SdhciRegisters.PresentState, 0), new(SdhciRegisters.PresentState, 1)]));
    }

    [Fact]
    public void The_driver_s_typed_registers_and_the_dump_s_descriptions_are_one_model()
    {
        // Every register the driver declares (SdhciBlock) lies inside a described register of the dump with the same
        // access kind, and every described register starts at a declared one: the offsets are written once.
        var declared = typeof(SdhciBlock).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType.IsGenericType && f.FieldType.Name.StartsWith("Register", StringComparison.Ordinal))
            .Select(f => (Name: f.Name, Value: f.GetValue(null)!))
            .Select(r => (r.Name, Offset: (int)r.Value.GetType().GetProperty("Offset")!.GetValue(r.Value)!,
                Width: (int)r.Value.GetType().GetProperty("Width")!.GetValue(r.Value)!,
                Access: (RegisterAccessKind)r.Value.GetType().GetProperty("Access")!.GetValue(r.Value)!))
            .ToList();
        Assert.True(declared.Count >= 49, $"{declared.Count} registers declared");

        foreach (var (name, offset, width, access) in declared)
        {
            var bytes = Enumerable.Range(offset, width);
            Assert.True(bytes.All(b => SdhciRegisters.All.Any(r => r.Offset <= b && b < r.Offset + r.Width)),
                $"{name} (0x{offset:x}, {width} bytes) is not described for the dump");
        }

        foreach (var register in SdhciRegisters.All)
        {
            var start = declared.Where(d => d.Offset == register.Offset && (d.Width == register.Width || register.Width == 8)).ToList();
            Assert.True(start.Count > 0, $"{register} has no declared register at its offset");
            var kind = start[0].Access switch
            {
                RegisterAccessKind.ReadOnly => SdhciRegisterAccess.ReadOnly,
                RegisterAccessKind.WriteOnly => SdhciRegisterAccess.WriteOnly,
                RegisterAccessKind.WriteOneToClear => SdhciRegisterAccess.ReadWriteOneToClear,
                RegisterAccessKind.DataPort => SdhciRegisterAccess.DataPort,
                _ => SdhciRegisterAccess.ReadWrite,
            };
            Assert.Equal(kind, register.Access);
        }
    }

    [Fact]
    public void The_driver_s_typed_fields_sit_where_the_dump_describes_them()
    {
        Assert.Equal((16, 1), (SdhciBlock.CardInserted.Shift, SdhciBlock.CardInserted.Width));
        Assert.Equal(SdhciRegisters.PresentStateFields.CardInserted.Mask, SdhciBlock.CardInserted.Mask);
        Assert.Equal(SdhciRegisters.HostControl2Fields.UhsModeSelect.Mask, SdhciBlock.UhsModeSelect.Mask);
        Assert.Equal(SdhciRegisters.HostControl1Fields.DmaSelect.Mask, SdhciBlock.DmaSelect.Mask);
        Assert.Equal(SdhciRegisters.CommandFields.CommandIndex.Mask, SdhciBlock.CommandIndex.Mask);
        Assert.Equal(0x3E, SdhciBlock.HostControl2.Offset);

        // Typed values: UHS Mode Select takes the bus speed, the voltage field the bus voltage, as the specification numbers them.
        Assert.Equal(0x0002u, SdhciBlock.UhsModeSelect.With(0u, SdBusSpeed.Sdr50));
        Assert.Equal(0x0Eu, SdhciBlock.SdBusVoltageSelect.With(0u, SdhciBusVoltage.V33));
        Assert.Throws<ArgumentOutOfRangeException>(() => SdhciBlock.CommandIndex.With(0u, (byte)64));
    }

    [Fact]
    public void The_arasan_dump_descriptions_come_from_the_arasan_block()
    {
        Assert.Equal(ArasanBlock.VendorRegister.Offset, ArasanRegisters.VendorRegister.Offset);
        Assert.Equal(0x200, ArasanRegisters.CqVersion.Offset);
        Assert.Equal(0x25C, ArasanRegisters.CqResponseArgument.Offset);
        Assert.All(ArasanRegisters.Cqe.Concat(ArasanRegisters.Vendor), r => Assert.True(r.Offset + r.Width <= ArasanBlock.Size, $"{r} lies outside the block"));
        Assert.Equal(SdhciRegisters.PresentStateFields.CardInserted.Mask, SdhciBlock.CardInserted.Mask);
        Assert.Equal(ArasanRegisters.VendorRegisterFields.EnhancedStrobe.Mask, ArasanBlock.EnhancedStrobe.Mask);
    }
}
