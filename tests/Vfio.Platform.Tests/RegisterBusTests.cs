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

    /// <summary>A device model that records every access as "R4@0x24" / "W2@0xe=0x1234".</summary>
    private sealed class RecordingBus(int length) : IRegisterBus
    {
        public byte[] Memory { get; } = new byte[length];

        public List<string> Log { get; } = [];

        public int Length => Memory.Length;

        public byte Read8(int offset) => (byte)Read(offset, 1);

        public ushort Read16(int offset) => (ushort)Read(offset, 2);

        public uint Read32(int offset) => (uint)Read(offset, 4);

        public ulong Read64(int offset) => Read(offset, 8);

        public void Write8(int offset, byte value) => Write(offset, 1, value);

        public void Write16(int offset, ushort value) => Write(offset, 2, value);

        public void Write32(int offset, uint value) => Write(offset, 4, value);

        public void Write64(int offset, ulong value) => Write(offset, 8, value);

        public void ReadRepeated32(int offset, Span<uint> destination)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = Read32(offset);
            }
        }

        public void WriteRepeated32(int offset, ReadOnlySpan<uint> source)
        {
            foreach (var value in source)
            {
                Write32(offset, value);
            }
        }

        private ulong Read(int offset, int width)
        {
            Log.Add($"R{width}@0x{offset:x}");
            ulong value = 0;
            for (var i = width - 1; i >= 0; i--)
            {
                value = (value << 8) | Memory[offset + i];
            }

            return value;
        }

        private void Write(int offset, int width, ulong value)
        {
            Log.Add($"W{width}@0x{offset:x}=0x{value:x}");
            for (var i = 0; i < width; i++)
            {
                Memory[offset + i] = (byte)(value >> (8 * i));
            }
        }
    }
}
