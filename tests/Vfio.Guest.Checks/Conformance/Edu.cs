using System.Diagnostics;
using Vfio.Platform;
using Vfio.Platform.Mmio;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>A driver for QEMU's educational PCI device (<c>-device edu</c>, 1234:11e8), the conformance
/// cases' stand-in for the kernel selftests' memcpy devices. Written from QEMU's docs/specs/edu.rst and
/// the behaviour of hw/misc/edu.c in QEMU 7.2: BAR0 holds 32-bit registers below 0x80 and 32/64-bit DMA
/// registers from 0x80; the DMA engine copies between guest memory (by IOVA, masked to 28 bits) and a
/// 4 KiB buffer that the device sees at 0x40000.</summary>
internal sealed class Edu : IDisposable
{
    public const ushort VendorId = 0x1234, DeviceId = 0x11e8;

    /// <summary>Where the device's own buffer starts in its DMA address space, and its size.</summary>
    public const uint BufferStart = 0x40000, BufferSize = 4096;

    /// <summary>The edu masks every DMA address to 28 bits (edu.rst: "DMA mask 28 bits"); IOVAs at or above
    /// this are silently clamped, which would hit a different page.</summary>
    public const ulong DmaLimit = 1UL << 28;

    // Registers (edu.rst).
    private const int Identification = 0x00, Liveness = 0x04, InterruptStatus = 0x24, RaiseInterrupt = 0x60, AcknowledgeInterrupt = 0x64,
        DmaSource = 0x80, DmaDestination = 0x88, DmaCount = 0x90, DmaCommand = 0x98;

    // DMA command bits: start, direction (set: from the edu's buffer to RAM), raise interrupt 0x100 when done.
    private const uint DmaRun = 0x1, DmaToRam = 0x2, DmaIrq = 0x4;

    private readonly MmioRegion _bar0;

    public Edu(VfioDevice device)
    {
        Device = device;
        _bar0 = device.MapRegion(0);
    }

    public VfioDevice Device { get; }

    public MmioRegion Bar0 => _bar0;

    /// <summary>The identification register: 0xRRrr00ed, major.minor version and 0xed.</summary>
    public uint Identify() => _bar0.Read32(Identification);

    /// <summary>The liveness check: the device returns the bitwise inverse of what was written.</summary>
    public bool IsAlive()
    {
        _bar0.Write32(Liveness, 0x12345678);
        return _bar0.Read32(Liveness) == ~0x12345678u;
    }

    public uint Status => _bar0.Read32(InterruptStatus);

    /// <summary>Sets bits in the interrupt status; the device raises its interrupt (MSI when the MSI
    /// capability is enabled, else INTx) while any bit is set.</summary>
    public void Raise(uint bits) => _bar0.Write32(RaiseInterrupt, bits);

    /// <summary>Clears bits in the interrupt status; with MSI off the INTx line drops when none is left.</summary>
    public void Acknowledge(uint bits) => _bar0.Write32(AcknowledgeInterrupt, bits);

    /// <summary>One DMA transfer between RAM at <paramref name="iova"/> and the edu's buffer at
    /// <paramref name="bufferOffset"/>, polled to completion. QEMU 7.2 aborts the whole VM (hw_error) for a
    /// transfer that ends exactly at the buffer's end (an off-by-one in its range check), so this refuses
    /// any transfer that reaches it. The edu finishes a transfer 100 ms (virtual clock) after it starts.</summary>
    /// <returns>False when the engine did not finish within <paramref name="timeout"/>.</returns>
    public bool Dma(ulong iova, uint bufferOffset, uint count, bool toRam, TimeSpan timeout, bool interrupt = false)
    {
        if (count == 0 || bufferOffset + (ulong)count >= BufferSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"edu DMA of {count} bytes at buffer offset {bufferOffset} must end below {BufferSize - 1} (QEMU 7.2 aborts the VM otherwise)");
        }

        if (iova + count > DmaLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(iova), $"IOVA 0x{iova:x} is beyond the edu's 28-bit DMA mask");
        }

        var device = BufferStart + (ulong)bufferOffset;
        _bar0.Write64(DmaSource, toRam ? device : iova);
        _bar0.Write64(DmaDestination, toRam ? iova : device);
        _bar0.Write64(DmaCount, count);
        _bar0.Write64(DmaCommand, DmaRun | (toRam ? DmaToRam : 0) | (interrupt ? DmaIrq : 0));
        var clock = Stopwatch.StartNew();
        while ((_bar0.Read64(DmaCommand) & DmaRun) != 0)
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }

    /// <summary>The selftests' memcpy on a device that has no RAM-to-RAM engine: RAM to the edu's buffer,
    /// then the edu's buffer to RAM.</summary>
    public bool Memcpy(ulong sourceIova, ulong destinationIova, uint count, TimeSpan timeout) =>
        Dma(sourceIova, 0, count, toRam: false, timeout) && Dma(destinationIova, 0, count, toRam: true, timeout);

    public void Dispose() => _bar0.Dispose();
}
