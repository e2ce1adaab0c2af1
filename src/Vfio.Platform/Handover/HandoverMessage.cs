using System.Buffers.Binary;
using System.Text;
using Vfio.Native;

namespace Vfio.Platform.Handover;

/// <summary>The data part of a handover message: what the descriptors are, so the receiver rebuilds the
/// objects without opening a node. Little-endian, versioned; the descriptors travel as one
/// <c>SCM_RIGHTS</c> message in the order the kind says (container, group, device / iommufd, device).</summary>
internal sealed record HandoverMessage(VfioHandoverKind Kind, VfioIommuType IommuType, bool IsNoIommu, uint IoasId, string DeviceName, string NodePath)
{
    // "VFHO", then version, kind, flags, IOMMU type, IOAS id, descriptor count, the two string lengths.
    public const uint Magic = 0x4F484656;
    public const ushort Version = 1;
    public const int FixedSize = 24;
    public const int MaxSize = 4096;
    private const byte NoIommuFlag = 1;

    public int DescriptorCount => DescriptorsOf(Kind);

    public static int DescriptorsOf(VfioHandoverKind kind) => kind == VfioHandoverKind.Group ? 3 : 2;

    public byte[] Encode()
    {
        var name = Encoding.UTF8.GetBytes(DeviceName);
        var path = Encoding.UTF8.GetBytes(NodePath);
        var bytes = new byte[FixedSize + name.Length + path.Length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        span[6] = (byte)Kind;
        span[7] = IsNoIommu ? NoIommuFlag : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], (uint)IommuType);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], IoasId);
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], (ushort)DescriptorCount);
        BinaryPrimitives.WriteUInt16LittleEndian(span[18..], (ushort)name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], (ushort)path.Length);
        name.CopyTo(span[FixedSize..]);
        path.CopyTo(span[(FixedSize + name.Length)..]);
        return bytes.Length > MaxSize ? throw new ArgumentException("The device name and node path are too long for a handover message.") : bytes;
    }

    /// <summary>Parses and checks a received message; every inconsistency is a <see cref="VfioException"/>
    /// (EPROTO) that says what was wrong.</summary>
    public static HandoverMessage Decode(ReadOnlySpan<byte> data, string target)
    {
        static VfioException Bad(string target, string why) => new("handover message", target, Errno.EPROTO, why);

        if (data.Length < FixedSize || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic)
        {
            throw Bad(target, $"The {data.Length} bytes received are not a VFIO handover message (no \"VFHO\" header): is the peer a VfioHandover.Send?");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        if (version != Version)
        {
            throw Bad(target, $"The sender speaks handover version {version}; this library reads version {Version}. Use the same library version on both sides.");
        }

        var kind = (VfioHandoverKind)data[6];
        if (kind is not (VfioHandoverKind.Group or VfioHandoverKind.Iommufd))
        {
            throw Bad(target, $"Unknown device kind {data[6]}.");
        }

        var isNoIommu = (data[7] & NoIommuFlag) != 0;
        var iommuType = (VfioIommuType)BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        var ioasId = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(data[16..]);
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(data[18..]);
        var pathLength = BinaryPrimitives.ReadUInt16LittleEndian(data[20..]);
        if (count != DescriptorsOf(kind))
        {
            throw Bad(target, $"A {kind} handover carries {DescriptorsOf(kind)} descriptors; the header says {count}.");
        }

        var expectedType = kind == VfioHandoverKind.Iommufd
            ? iommuType == VfioIommuType.None && !isNoIommu
            : iommuType is VfioIommuType.Type1 or VfioIommuType.Type1v2 or VfioIommuType.NoIommu && isNoIommu == (iommuType == VfioIommuType.NoIommu);
        if (!expectedType)
        {
            throw Bad(target, $"IOMMU type {iommuType} (no-IOMMU flag {isNoIommu}) does not fit a {kind} handover.");
        }

        if (nameLength == 0 || FixedSize + nameLength + pathLength != data.Length)
        {
            throw Bad(target, $"The header's string lengths ({nameLength} + {pathLength}) do not match the {data.Length} bytes received.");
        }

        var name = Encoding.UTF8.GetString(data.Slice(FixedSize, nameLength));
        var path = Encoding.UTF8.GetString(data.Slice(FixedSize + nameLength, pathLength));
        return new HandoverMessage(kind, iommuType, isNoIommu, ioasId, name, path);
    }
}
