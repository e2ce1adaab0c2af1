using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Tests;

/// <summary>DMA memory for tests: a byte array at a made-up bus address.</summary>
internal sealed class FakeDmaMemory(ulong deviceAddress, int length) : IDmaMemory
{
    public byte[] Memory { get; } = new byte[length];

    public ulong DeviceAddress { get; } = deviceAddress;

    public Span<byte> Bytes => Memory;

    public bool Contains(ulong address, int length) =>
        address >= DeviceAddress && address + (ulong)length <= DeviceAddress + (ulong)Memory.Length;
}
