using System.Diagnostics;
using System.Text;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Dma;
using Vfio.Platform.Interrupts;
using Vfio.Platform.Mmio;

namespace Vfio.Guest.Checks.Conformance;

/// <summary>The smallest NVMe driver that proves MSI-X end to end: the admin queue pair in DMA memory,
/// IDENTIFY CONTROLLER, its completion signalled on MSI-X vector 0. Written from the NVMe base
/// specification (controller registers, queue entry layouts) for QEMU's <c>-device nvme</c> (1b36:0010),
/// which needs no drive for the admin queue.</summary>
internal sealed class Nvme : IDisposable
{
    public const ushort VendorId = 0x1b36, DeviceId = 0x0010;

    // Controller registers (NVMe base spec, 3.1).
    private const int Cap = 0x00, Version = 0x08, Cc = 0x14, Csts = 0x1C, Aqa = 0x24, Asq = 0x28, Acq = 0x30, Doorbells = 0x1000;

    // CC: enable; I/O queue entry sizes as log2 (64-byte submissions, 16-byte completions) which the
    // controller checks when it is enabled even with no I/O queue; CSS 0 (NVM), MPS 0 (4 KiB pages).
    private const uint CcEnable = 1, CcEntrySizes = (6u << 16) | (4u << 20);

    private const int QueueEntries = 16, SubmissionSize = 64, CompletionSize = 16;

    private readonly MmioRegion _bar0;

    public Nvme(VfioDevice device)
    {
        Device = device;
        _bar0 = device.MapRegion(0);
    }

    public VfioDevice Device { get; }

    public MmioRegion Bar0 => _bar0;

    public ulong Capabilities => _bar0.Read64(Cap);

    public uint VersionRegister => _bar0.Read32(Version);

    public uint Configuration => _bar0.Read32(Cc);

    public uint Status => _bar0.Read32(Csts);

    public uint AdminQueueAttributes
    {
        get => _bar0.Read32(Aqa);
        set => _bar0.Write32(Aqa, value);
    }

    /// <summary>CAP.DSTRD: doorbells are 4 &lt;&lt; DSTRD bytes apart.</summary>
    private int DoorbellStride => 4 << (int)((Capabilities >> 32) & 0xF);

    /// <summary>CAP.TO: the worst time to ready, in 500 ms units.</summary>
    private TimeSpan ReadyTimeout => TimeSpan.FromMilliseconds(500 * Math.Max(1, (int)((Capabilities >> 24) & 0xFF)));

    public bool Disable()
    {
        _bar0.Write32(Cc, 0);
        return WaitReady(false);
    }

    /// <summary>Enables the controller on an admin queue pair at <paramref name="sqIova"/> and
    /// <paramref name="cqIova"/> (one 4 KiB page each), IDENTIFY CONTROLLER into <paramref name="dataIova"/>,
    /// and waits for its completion on <paramref name="vector"/> (MSI-X vector 0: the admin completion
    /// queue's). Returns null on success, else what went wrong.</summary>
    public string? IdentifyController(Span<byte> sq, ulong sqIova, Span<byte> cq, ulong cqIova, ulong dataIova, VfioInterrupt vector, out ushort status)
    {
        status = 0xFFFF;
        if (!Disable())
        {
            return "CSTS.RDY stayed set after clearing CC.EN";
        }

        sq.Clear();
        cq.Clear();
        _bar0.Write32(Aqa, (QueueEntries - 1) | ((QueueEntries - 1) << 16));
        // Two 32-bit halves: the spec allows it, and a 64-bit MMIO write is not one access on every path.
        _bar0.Write32(Asq, (uint)sqIova);
        _bar0.Write32(Asq + 4, (uint)(sqIova >> 32));
        _bar0.Write32(Acq, (uint)cqIova);
        _bar0.Write32(Acq + 4, (uint)(cqIova >> 32));
        _bar0.Write32(Cc, CcEnable | CcEntrySizes);
        if (!WaitReady(true))
        {
            return $"CSTS.RDY did not set (CSTS 0x{_bar0.Read32(Csts):x})";
        }

        // Submission entry 0: opcode 0x06 IDENTIFY, command id 1, PRP1 the data page, CDW10 CNS 1 (controller).
        const ushort CommandId = 1;
        BitConverter.TryWriteBytes(sq[0..4], 0x06u | ((uint)CommandId << 16));
        BitConverter.TryWriteBytes(sq[24..32], dataIova);
        BitConverter.TryWriteBytes(sq[40..44], 1u);
        // The entry must be in memory before the device sees the new tail.
        Interlocked.MemoryBarrier();
        var before = vector.Wait(TimeSpan.Zero);
        _bar0.Write32(Doorbells, 1); // SQ 0 tail
        var interrupts = vector.Wait(TimeSpan.FromSeconds(5));
        var dw3 = BitConverter.ToUInt32(cq[12..16]);
        status = (ushort)(dw3 >> 17);
        if (before != 0 || interrupts != 1)
        {
            return $"MSI-X vector 0 read {before} before the doorbell, {interrupts} after";
        }

        if ((dw3 & 0x10000) == 0 || (dw3 & 0xFFFF) != CommandId)
        {
            return $"no completion for command {CommandId} in the admin completion queue (DW3 0x{dw3:x})";
        }

        _bar0.Write32(Doorbells + DoorbellStride, 1); // CQ 0 head: the entry is consumed
        return status == 0 ? null : $"IDENTIFY completed with status 0x{status:x}";
    }

    /// <summary>The serial number in IDENTIFY CONTROLLER data (bytes 4-23, ASCII, space padded).</summary>
    public static string Serial(ReadOnlySpan<byte> identify) => Encoding.ASCII.GetString(identify[4..24]).TrimEnd(' ', '\0');

    /// <summary>The model number (bytes 24-63).</summary>
    public static string Model(ReadOnlySpan<byte> identify) => Encoding.ASCII.GetString(identify[24..64]).TrimEnd(' ', '\0');

    private bool WaitReady(bool ready)
    {
        var clock = Stopwatch.StartNew();
        while (((_bar0.Read32(Csts) & 1) != 0) != ready)
        {
            if (clock.Elapsed > ReadyTimeout + TimeSpan.FromSeconds(2))
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }

    public void Dispose()
    {
        try
        {
            _ = Disable();
        }
        finally
        {
            _bar0.Dispose();
        }
    }

    /// <summary>An admin queue pair and a data page in one DMA buffer, mapped in <paramref name="dma"/>.</summary>
    internal sealed class Queues : IDisposable
    {
        public Queues(IDmaSpace dma, ulong? iova = null)
        {
            Buffer = DmaBuffer.Allocate(3 * 0x1000);
            Mapping = dma.MapDma(Buffer, iova);
        }

        public DmaBuffer Buffer { get; }

        public DmaMapping Mapping { get; }

        public Span<byte> Sq => Buffer.Span[..(QueueEntries * SubmissionSize)];

        public Span<byte> Cq => Buffer.Span.Slice(0x1000, QueueEntries * CompletionSize);

        public Span<byte> Data => Buffer.Span.Slice(0x2000, 0x1000);

        public string? Identify(Nvme nvme, VfioInterrupt vector, out ushort status)
        {
            Data.Fill(0xEE);
            return nvme.IdentifyController(Sq, Mapping.Iova, Cq, Mapping.Iova + 0x1000, Mapping.Iova + 0x2000, vector, out status);
        }

        public void Dispose()
        {
            Mapping.Dispose();
            Buffer.Dispose();
        }
    }

    /// <summary>The PCI MSI-X capability from config space: table size, and the BAR and offset of the
    /// table and of the pending-bit array.</summary>
    public static (int TableSize, int TableBar, uint TableOffset, int PbaBar, uint PbaOffset)? MsixCapability(MmioRegion config)
    {
        var pointer = config.Read8(0x34) & ~3;
        for (var hops = 0; pointer != 0 && hops < 48; hops++)
        {
            if (config.Read8(pointer) == 0x11)
            {
                var control = config.Read16(pointer + 2);
                var table = config.Read32(pointer + 4);
                var pba = config.Read32(pointer + 8);
                return ((control & 0x7FF) + 1, (int)(table & 7), table & ~7u, (int)(pba & 7), pba & ~7u);
            }

            pointer = config.Read8(pointer + 1) & ~3;
        }

        return null;
    }

    public static MmioRegion Config(VfioDevice device) => device.MapRegion(VfioUapi.VFIO_PCI_CONFIG_REGION_INDEX);
}
