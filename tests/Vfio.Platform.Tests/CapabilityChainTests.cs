using System.Buffers.Binary;
using Vfio.Platform.Kernel;
using Xunit;

namespace Vfio.Platform.Tests;

/// <summary>The capability-chain parser treats the kernel's buffer as untrusted input.</summary>
public sealed class CapabilityChainTests
{
    private const int FixedPart = 32; // sizeof(struct vfio_region_info)

    [Fact]
    public void A_well_formed_chain_yields_each_capability_with_its_extent()
    {
        var buffer = new byte[80];
        Header(buffer, 32, id: 1, version: 1, next: 48);
        Header(buffer, 48, id: 2, version: 1, next: 0);

        var chain = CapabilityChain.Parse(buffer, 32, FixedPart);

        Assert.Equal([new VfioCapability(1, 1, 32, 16), new VfioCapability(2, 1, 48, 32)], chain);
    }

    [Theory]
    [InlineData(32u, 32u)] // points at itself
    [InlineData(48u, 32u)] // points back
    public void A_loop_is_an_error_not_a_hang(uint first, uint next)
    {
        var buffer = new byte[80];
        Header(buffer, 32, 1, 1, next: 48);
        Header(buffer, 48, 2, 1, next: next);
        if (first == 32 && next == 32)
        {
            Header(buffer, 32, 1, 1, next: 32);
        }

        Assert.Throws<InvalidDataException>(() => CapabilityChain.Parse(buffer, first, FixedPart));
    }

    [Theory]
    [InlineData(76u)] // header would end past the buffer
    [InlineData(1000u)]
    [InlineData(8u)] // inside the fixed part
    [InlineData(34u)] // misaligned
    public void An_offset_outside_the_buffer_is_an_error(uint first)
    {
        Assert.Throws<InvalidDataException>(() => CapabilityChain.Parse(new byte[80], first, FixedPart));
    }

    [Fact]
    public void Random_buffers_never_crash_or_hang()
    {
        var random = new Random(20261123);
        var parsed = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var buffer = new byte[random.Next(0, 256)];
            random.NextBytes(buffer);
            // Bias towards plausible offsets so the walk goes deep, not just fails at once.
            for (var at = 32; at + 8 <= buffer.Length; at += 8)
            {
                if (random.Next(2) == 0)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(at + 4), (uint)(random.Next(0, buffer.Length + 16) & ~3));
                }
            }

            try
            {
                var chain = CapabilityChain.Parse(buffer, (uint)(random.Next(0, buffer.Length + 8) & ~3), FixedPart);
                Assert.All(chain, c => Assert.True(c.Offset >= FixedPart && c.Offset + 8 <= buffer.Length));
                parsed++;
            }
            catch (InvalidDataException)
            {
            }
        }

        Assert.InRange(parsed, 1, 19_999);
    }

    private static void Header(byte[] buffer, int at, ushort id, ushort version, uint next)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(at), id);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(at + 2), version);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(at + 4), next);
    }
}
