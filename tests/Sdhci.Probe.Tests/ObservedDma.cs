using Sdhci.Probe.Commands;

namespace Sdhci.Probe.Tests;

/// <summary>DMA memory on the fake controller's bus that writes "dma:released" into the controller's log when disposed.</summary>
internal sealed class ObservedDma : IOwnedDmaMemory
{
    private readonly FakeSdController _fake;
    private readonly FakeDmaMemory _memory;

    public ObservedDma(FakeSdController fake, int length, ulong address = CardCommandKit.DmaAddress)
    {
        _fake = fake;
        _memory = new FakeDmaMemory(address, length);
        fake.Attach(_memory);
    }

    public bool Released { get; private set; }

    public ulong DeviceAddress => _memory.DeviceAddress;

    public Span<byte> Bytes => _memory.Bytes;

    public void Dispose()
    {
        Released = true;
        _fake.Log.Add("dma:released");
    }
}
