using Vfio.Platform;
using Vfio.Platform.Interrupts;
using Vfio.Platform.Mmio;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>
/// A driver for one channel of the ZynqMP's general-purpose DMA (GDMA, "ZDMA"; QEMU's <c>xlnx.zdma</c> in
/// the xlnx-zcu102 machine): the conformance suite's memcpy device on the platform side, in no-IOMMU mode,
/// where it is given physical addresses. Written from the ZynqMP register reference (UG1087, module ZDMA)
/// and QEMU 7.2's hw/dma/xlnx-zdma.c. Simple (register) mode: the source and destination descriptors are
/// written into the channel's registers, CTRL2.EN starts the copy, ISR.DMA_DONE (bit 10) says it is done
/// and raises the channel's SPI while its IMR bit is clear.
/// </summary>
internal sealed class Zdma : IDisposable
{
    /// <summary>The device tree's compatible string of a channel.</summary>
    public const string Compatible = "xlnx,zynqmp-dma-1.0";

    /// <summary>The channel's interrupt status bits (ISR, IMR, IEN, IDS share them).</summary>
    public const uint DmaDone = 1u << 10, AllInterrupts = 0xfff;

    /// <summary>A descriptor's size field is 30 bits.</summary>
    public const uint MaxSize = (1u << 30) - 1;

    // Channel registers (UG1087 ZDMA, offsets within a channel's 4 KiB).
    private const int Isr = 0x100, Imr = 0x104, Ien = 0x108, Ids = 0x10c, Ctrl0 = 0x110, Status = 0x11c, DataAttr = 0x120,
        SrcWord0 = 0x128, SrcWord1 = 0x12c, SrcWord2 = 0x130, SrcWord3 = 0x134,
        DstWord0 = 0x138, DstWord1 = 0x13c, DstWord2 = 0x140, DstWord3 = 0x144, TotalByte = 0x188, Ctrl2 = 0x200;

    // CTRL0: POINT_TYPE (bit 6: 0 = descriptors in registers) and MODE (bits 5:4: 0 = read and write).
    private const uint PointTypeAndMode = 0x70;

    // DATA_ATTR: ARBURST (27:26) and AWBURST (13:12); 1 = incrementing bursts.
    private const uint BurstMask = (3u << 26) | (3u << 12), IncrementingBursts = (1u << 26) | (1u << 12);

    private readonly MmioRegion _regs;

    public Zdma(VfioDevice device)
    {
        Device = device;
        _regs = device.MapRegion(0);
        Irq = device.EnableInterrupt(0);
    }

    public VfioDevice Device { get; }

    public MmioRegion Registers => _regs;

    /// <summary>The channel's interrupt (vfio-platform index 0: its one SPI, level-triggered, automasked).</summary>
    public VfioInterrupt Irq { get; }

    public uint InterruptStatus => _regs.Read32(Isr);

    public uint InterruptMask => _regs.Read32(Imr);

    /// <summary>STATUS.STATE: 0 done, 1 paused, 2 busy, 3 error.</summary>
    public uint State => _regs.Read32(Status) & 3;

    /// <summary>Bytes the channel has moved since the counter was last read (TOTAL_BYTE, clear on read in hardware).</summary>
    public uint TotalBytes => _regs.Read32(TotalByte);

    /// <summary>Clears every pending status bit (write 1 to clear) and masks or unmasks DMA_DONE.</summary>
    public void Prepare(bool interruptOnDone)
    {
        _regs.Write32(Ids, AllInterrupts);
        _regs.Write32(Isr, AllInterrupts);
        if (interruptOnDone)
            _regs.Write32(Ien, DmaDone);
    }

    /// <summary>Unmasks DMA_DONE: a status bit already set raises the line at once.</summary>
    public void EnableDoneInterrupt() => _regs.Write32(Ien, DmaDone);

    /// <summary>Clears DMA_DONE and lets the next one through the VFIO automask.</summary>
    public void Acknowledge()
    {
        _regs.Write32(Isr, DmaDone);
        Irq.Unmask();
    }

    /// <summary>Starts a copy of <paramref name="size"/> bytes from physical address <paramref name="source"/> to
    /// <paramref name="destination"/> in simple mode. The channel must be idle.</summary>
    public void Start(ulong source, ulong destination, uint size)
    {
        if (size is 0 or > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A ZDMA descriptor moves 1 to {MaxSize} bytes.");
        if (((source | destination) >> 49) != 0)
            throw new ArgumentOutOfRangeException(nameof(source), "ZDMA addresses are 49 bits (17 in the MSB word).");

        _regs.Write32(Ctrl0, _regs.Read32(Ctrl0) & ~PointTypeAndMode);
        _regs.Write32(DataAttr, (_regs.Read32(DataAttr) & ~BurstMask) | IncrementingBursts);
        _regs.Write32(SrcWord0, (uint)source);
        _regs.Write32(SrcWord1, (uint)(source >> 32));
        _regs.Write32(SrcWord2, size);
        _regs.Write32(SrcWord3, 0);
        _regs.Write32(DstWord0, (uint)destination);
        _regs.Write32(DstWord1, (uint)(destination >> 32));
        _regs.Write32(DstWord2, size);
        _regs.Write32(DstWord3, 0);
        _regs.Write32(Ctrl2, 1);
    }

    /// <summary>A copy that waits for DMA_DONE on the interrupt (<paramref name="byInterrupt"/>) or by polling ISR.
    /// True when DMA_DONE came and the channel is not in its error state.</summary>
    public bool Memcpy(ulong source, ulong destination, uint size, TimeSpan timeout, bool byInterrupt = true)
    {
        Prepare(byInterrupt);
        Start(source, destination, size);
        if (byInterrupt)
        {
            if (Irq.Wait(timeout) == 0)
                return false;
        }
        else
        {
            var deadline = DateTime.UtcNow + timeout;
            while ((InterruptStatus & DmaDone) == 0)
            {
                if (DateTime.UtcNow > deadline)
                    return false;
                Thread.Yield();
            }
        }

        var done = (InterruptStatus & DmaDone) != 0 && State != 3;
        if (byInterrupt)
            Acknowledge();
        else
            _regs.Write32(Isr, DmaDone);
        return done;
    }

    public void Dispose()
    {
        try
        {
            _regs.Write32(Ids, AllInterrupts);
            _regs.Write32(Isr, AllInterrupts);
        }
        finally
        {
            Irq.Dispose();
            _regs.Dispose();
        }
    }
}
