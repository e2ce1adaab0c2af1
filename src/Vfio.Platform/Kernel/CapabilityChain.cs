using Vfio.Native;

namespace Vfio.Platform.Kernel;

/// <summary>Walks a capability chain (<c>vfio_info_cap_header.next</c> offsets) in a buffer the kernel
/// filled. The buffer is untrusted input: every offset is checked against it, the walk is bounded,
/// and a loop or an offset outside the buffer is an error, never a hang or an out-of-bounds read.</summary>
public static class CapabilityChain
{
    /// <summary>The capabilities of the chain that starts at <paramref name="firstOffset"/> (0 = none).</summary>
    /// <exception cref="InvalidDataException">The chain is malformed.</exception>
    public static List<VfioCapability> Parse(ReadOnlySpan<byte> buffer, uint firstOffset, int fixedPartSize)
    {
        var result = new List<VfioCapability>();
        var headerSize = (int)Structs.Size<vfio_info_cap_header>();
        var offset = firstOffset;
        // Each capability takes at least a header, so more steps than that means a loop.
        var maxSteps = buffer.Length / headerSize;
        while (offset != 0)
        {
            if (offset < fixedPartSize || offset > (uint)(buffer.Length - headerSize) || offset % 4 != 0)
            {
                throw new InvalidDataException($"capability at offset {offset} lies outside the {buffer.Length}-byte info buffer (fixed part {fixedPartSize} bytes) or is misaligned");
            }

            if (result.Count >= maxSteps)
            {
                throw new InvalidDataException($"capability chain has more than {maxSteps} entries in a {buffer.Length}-byte buffer: it loops");
            }

            var header = Structs.Read<vfio_info_cap_header>(buffer, (int)offset);
            var end = header.next == 0 ? buffer.Length : (int)Math.Min(header.next, (uint)buffer.Length);
            if (header.next != 0 && header.next <= offset)
            {
                // The kernel appends capabilities, so next always grows; anything else would loop.
                throw new InvalidDataException($"capability at offset {offset} points back to {header.next}");
            }

            result.Add(new VfioCapability(header.id, header.version, (int)offset, Math.Max(end - (int)offset, headerSize)));
            offset = header.next;
        }

        return result;
    }
}
