namespace Sdhci.Probe.Tests;

internal static class UInt128Bytes
{
    public static byte[] ToByteArrayBigEndian(this UInt128 value)
    {
        var bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return bytes;
    }
}
