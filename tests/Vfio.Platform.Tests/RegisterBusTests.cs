using Vfio.Platform.Mmio;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The same register block over a device model (a recording bus) and over a mapped region: the
/// model sees exactly the accesses a driver makes (offset, width, order), and the mapped bus's own
/// offset-based accessors are checked.</summary>
public sealed class RegisterBusTests
{
    [Fact]
    public void A_block_over_a_model_sends_each_named_access_to_it_with_its_width_and_offset()
    {
        var model = new RecordingBus(0x100);
        model.Memory[0x24] = 0x01;                       // Present State bit 0
        var regs = RegisterBlock.Over<TestSdhci, RecordingBus>(model);

        Assert.True(regs.IsBound);
        Assert.Equal(1u, regs.Read(TestSdhci.PresentState));
        regs.Write(TestSdhci.Command, 0x1234);
        regs.Modify(TestSdhci.HostControl2, TestSdhci.UhsModeSelect, UhsMode.Sdr50);
        Span<uint> fifo = stackalloc uint[3];
        regs.ReadRepeated(TestSdhci.BufferData, fifo);

        Assert.Equal(
            ["R4@0x24", "W2@0xe=0x1234", "R2@0x3e", "W2@0x3e=0x2", "R4@0x20", "R4@0x20", "R4@0x20"],
            model.Log);
        Assert.Equal(0x34, model.Memory[0x0E]);
        Assert.Equal(0x12, model.Memory[0x0F]);
    }

    [Fact]
    public void A_model_smaller_than_the_block_is_refused_before_any_access()
    {
        var model = new RecordingBus(0x80);
        var e = Assert.Throws<ArgumentException>(() => RegisterBlock.Over<TestSdhci, RecordingBus>(model));
        Assert.Contains("TestSdhci", e.Message, StringComparison.Ordinal);
        Assert.Contains("0x80", e.Message, StringComparison.Ordinal);
        Assert.Empty(model.Log);
        Assert.Throws<ArgumentNullException>(() => RegisterBlock.Over<TestSdhci, RecordingBus>(null!));
    }

    [Fact]
    public void The_mapped_bus_reaches_the_region_from_the_block_with_checked_offsets()
    {
        using var region = MmioRegion.CreateShared(0x1000);
        var regs = region.Bind<TestSdhci>(0x200);
        var bus = regs.Bus;
        Assert.Same(region, bus.Region);
        Assert.Equal(0x200, bus.Offset);
        Assert.Equal(0xE00, bus.Length);

        bus.Write32(0x24, 0xA5A5_0001);                  // the bus's offsets are the block's
        Assert.Equal(0xA5A5_0001u, regs.Read(TestSdhci.PresentState));
        Assert.Equal(0xA5A5_0001u, region.Read32(0x224));
        bus.Write32(0x400, 7);                           // beyond the block, inside the region: dumps read vendor registers so
        Assert.Equal(7u, region.Read32(0x600));

        Assert.ThrowsAny<Exception>(() => bus.Read32(0xE00));          // past the region
        Assert.Throws<ArgumentOutOfRangeException>(() => bus.Read32(-4)); // before the block
        Assert.Throws<InvalidOperationException>(() => default(MmioBus).Read32(0));
    }

    [Fact]
    public void A_model_is_asked_only_for_accesses_inside_it_and_aligned()
    {
        var model = new RecordingBus(0x100);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Read32(0x100));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Read32(-4));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Write16(0x31, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ReadRepeated32(0xFE, new uint[2]));
        Assert.Empty(model.Log);
        Assert.Equal(0UL, model.Read64(0xF8));
        Assert.Equal(["R8@0xf8"], model.Log);
    }

    /// <summary>A device model that records every access as "R4@0x24" / "W2@0xe=0x1234".</summary>
    private sealed class RecordingBus(int length) : RegisterBusModel(length)
    {
        public byte[] Memory { get; } = new byte[length];

        public List<string> Log { get; } = [];

        protected override ulong Read(int offset, int width)
        {
            Log.Add($"R{width}@0x{offset:x}");
            ulong value = 0;
            for (var i = width - 1; i >= 0; i--)
            {
                value = (value << 8) | Memory[offset + i];
            }

            return value;
        }

        protected override void Write(int offset, int width, ulong value)
        {
            Log.Add($"W{width}@0x{offset:x}=0x{value:x}");
            for (var i = 0; i < width; i++)
            {
                Memory[offset + i] = (byte)(value >> (8 * i));
            }
        }
    }
}
