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
    internal int DoorbellStride => 4 << (int)((Capabilities >> 32) & 0xF);

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

    internal bool WaitReady(bool ready)
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

    /// <summary>A reader of namespace 1 over an I/O queue pair: the admin queue pair, IDENTIFY NAMESPACE,
    /// CREATE I/O COMPLETION QUEUE (its interrupts on MSI-X vector 1) and CREATE I/O SUBMISSION QUEUE, then
    /// READ commands with a PRP list for transfers over two pages. One DMA buffer holds it all (NVMe base
    /// spec 5 and NVM command set spec 3.2.4; 4 KiB memory pages, CC.MPS 0).</summary>
    internal sealed class Reader : IDisposable
    {
        private const int Page = 0x1000;
        private const int AdminSq = 0, AdminCq = Page, Identify = 2 * Page, IoSq = 3 * Page, IoCq = 4 * Page, PrpList = 5 * Page, Data = 6 * Page;
        private const ushort IoQueueId = 1;

        private readonly Nvme _nvme;
        private readonly IReadOnlyList<VfioInterrupt> _vectors;
        private readonly QueueState _admin = new(0, QueueEntries), _io = new(IoQueueId, QueueEntries);
        private ushort _commandId;

        /// <summary>Maps the queues and room for <paramref name="maxBytes"/> of data (at most 512 pages: one
        /// PRP list page) in <paramref name="dma"/>; <paramref name="vectors"/> are MSI-X vectors 0 (admin)
        /// and 1 (the I/O completion queue).</summary>
        public Reader(Nvme nvme, IDmaSpace dma, IReadOnlyList<VfioInterrupt> vectors, int maxBytes)
        {
            if (maxBytes <= 0 || maxBytes > 512 * Page || vectors.Count < 2)
            {
                throw new ArgumentOutOfRangeException(nameof(maxBytes), "1 byte to 2 MiB, and two MSI-X vectors");
            }

            _nvme = nvme;
            _vectors = vectors;
            Buffer = DmaBuffer.Allocate(Data + maxBytes);
            Mapping = dma.MapDma(Buffer);
        }

        public DmaBuffer Buffer { get; }

        public DmaMapping Mapping { get; }

        /// <summary>IDENTIFY NAMESPACE: the namespace's size in logical blocks (NSZE).</summary>
        public ulong NamespaceBlocks { get; private set; }

        /// <summary>The logical block size of the format in use (FLBAS -> LBAF.LBADS).</summary>
        public int BlockSize { get; private set; }

        public ReadOnlySpan<byte> DataSpan(int length) => Buffer.Span.Slice(Data, length);

        /// <summary>Enables the controller on the admin queues, identifies namespace 1 and creates the I/O
        /// queue pair. Returns null on success, else what went wrong.</summary>
        public string? Start()
        {
            if (!_nvme.Disable())
            {
                return "CSTS.RDY stayed set after clearing CC.EN";
            }

            Buffer.Span[..Data].Clear();
            var bar = _nvme._bar0;
            bar.Write32(Aqa, (QueueEntries - 1) | ((QueueEntries - 1) << 16));
            var iova = Mapping.Iova;
            bar.Write32(Asq, (uint)(iova + AdminSq));
            bar.Write32(Asq + 4, (uint)((iova + AdminSq) >> 32));
            bar.Write32(Acq, (uint)(iova + AdminCq));
            bar.Write32(Acq + 4, (uint)((iova + AdminCq) >> 32));
            bar.Write32(Cc, CcEnable | CcEntrySizes);
            if (!_nvme.WaitReady(true))
            {
                return $"CSTS.RDY did not set (CSTS 0x{bar.Read32(Csts):x})";
            }

            // IDENTIFY (0x06) CNS 0: namespace 1's data structure.
            Buffer.Span.Slice(Identify, Page).Fill(0xEE);
            if (Admin("IDENTIFY NAMESPACE", 0x06, nsid: 1, prp1: iova + Identify, cdw10: 0) is { } identify)
            {
                return identify;
            }

            var ns = Buffer.Span.Slice(Identify, Page);
            NamespaceBlocks = BitConverter.ToUInt64(ns[..8]);
            var format = ns[26] & 0xF;                         // FLBAS: the LBA format in use
            var lbads = ns[128 + (4 * format) + 2];            // LBAF[format].LBADS: log2 of the block size
            BlockSize = lbads is >= 9 and <= 16 ? 1 << lbads : 0;
            if (NamespaceBlocks == 0 || BlockSize == 0)
            {
                return $"IDENTIFY NAMESPACE 1: NSZE {NamespaceBlocks}, LBADS {lbads}";
            }

            // CREATE I/O COMPLETION QUEUE (0x05): QID 1, 16 entries; CDW11 PC (contiguous), IEN, IV 1.
            var qsize = (uint)(QueueEntries - 1) << 16;
            if (Admin("CREATE I/O CQ", 0x05, nsid: 0, prp1: iova + IoCq, cdw10: IoQueueId | qsize, cdw11: 0x1 | 0x2 | (1u << 16)) is { } cq)
            {
                return cq;
            }

            // CREATE I/O SUBMISSION QUEUE (0x01): QID 1, 16 entries; CDW11 PC, priority 0, CQID 1.
            return Admin("CREATE I/O SQ", 0x01, nsid: 0, prp1: iova + IoSq, cdw10: IoQueueId | qsize, cdw11: 0x1 | ((uint)IoQueueId << 16));
        }

        /// <summary>READ (0x02) of <paramref name="blocks"/> logical blocks of namespace 1 from
        /// <paramref name="lba"/> into the data area, completed on the I/O queue with one count on MSI-X
        /// vector 1 and none on vector 0.</summary>
        public string? Read(ulong lba, int blocks)
        {
            var bytes = blocks * BlockSize;
            if (blocks is <= 0 or > 0x10000 || bytes > Buffer.Length - Data)
            {
                return $"{blocks} blocks do not fit the data area";
            }

            Buffer.Span.Slice(Data, bytes).Fill(0xEE);
            var data = Mapping.Iova + Data;
            var pages = (bytes + Page - 1) / Page;
            // PRP1 the first page; PRP2 the second page, or for more than two the PRP list of pages 2.. .
            ulong prp2 = 0;
            if (pages == 2)
            {
                prp2 = data + Page;
            }
            else if (pages > 2)
            {
                var list = Buffer.Span.Slice(PrpList, Page);
                for (var i = 1; i < pages; i++)
                {
                    BitConverter.TryWriteBytes(list[((i - 1) * 8)..], data + ((ulong)i * Page));
                }

                prp2 = Mapping.Iova + PrpList;
            }

            var status = Submit(_io, _vectors[1], 0x02, nsid: 1, data, prp2, (uint)lba, (uint)(lba >> 32), (uint)(blocks - 1), out var failure);
            if (failure is not null)
            {
                return $"READ: {failure}";
            }

            var stray = _vectors[0].Wait(TimeSpan.Zero);
            return status != 0 ? $"READ completed with status 0x{status:x}"
                : stray != 0 ? $"the I/O completion counted {stray} on the admin vector 0" : null;
        }

        /// <summary>DELETE I/O SQ (0x00) and DELETE I/O CQ (0x04), the order the spec requires.</summary>
        public string? Stop() =>
            Admin("DELETE I/O SQ", 0x00, nsid: 0, prp1: 0, cdw10: IoQueueId) ?? Admin("DELETE I/O CQ", 0x04, nsid: 0, prp1: 0, cdw10: IoQueueId);

        private string? Admin(string what, byte opcode, uint nsid, ulong prp1, uint cdw10, uint cdw11 = 0)
        {
            var status = Submit(_admin, _vectors[0], opcode, nsid, prp1, 0, cdw10, cdw11, 0, out var failure);
            return failure is not null ? $"{what}: {failure}" : status != 0 ? $"{what} completed with status 0x{status:x}" : null;
        }

        /// <summary>One command on <paramref name="queue"/>: the entry at the tail, the tail doorbell, one
        /// count on <paramref name="vector"/>, the completion at the head with the expected phase and command
        /// id, the head doorbell. Returns the status field (0 is success).</summary>
        private ushort Submit(QueueState queue, VfioInterrupt vector, byte opcode, uint nsid, ulong prp1, ulong prp2, uint cdw10, uint cdw11, uint cdw12, out string? failure)
        {
            var id = ++_commandId;
            var sqBase = queue.Id == 0 ? AdminSq : IoSq;
            var cqBase = queue.Id == 0 ? AdminCq : IoCq;
            var entry = Buffer.Span.Slice(sqBase + (queue.Tail * SubmissionSize), SubmissionSize);
            entry.Clear();
            BitConverter.TryWriteBytes(entry[0..4], opcode | ((uint)id << 16));
            BitConverter.TryWriteBytes(entry[4..8], nsid);
            BitConverter.TryWriteBytes(entry[24..32], prp1);
            BitConverter.TryWriteBytes(entry[32..40], prp2);
            BitConverter.TryWriteBytes(entry[40..44], cdw10);
            BitConverter.TryWriteBytes(entry[44..48], cdw11);
            BitConverter.TryWriteBytes(entry[48..52], cdw12);
            queue.Tail = (queue.Tail + 1) % queue.Entries;
            Interlocked.MemoryBarrier(); // the entry is in memory before the device sees the new tail
            var before = vector.Wait(TimeSpan.Zero);
            var stride = _nvme.DoorbellStride;
            _nvme._bar0.Write32(Doorbells + (2 * queue.Id * stride), (uint)queue.Tail);
            var interrupts = vector.Wait(TimeSpan.FromSeconds(5));
            var completion = Buffer.Span.Slice(cqBase + (queue.Head * CompletionSize), CompletionSize);
            var dw2 = BitConverter.ToUInt32(completion[8..12]);
            var dw3 = BitConverter.ToUInt32(completion[12..16]);
            if (before != 0 || interrupts != 1)
            {
                failure = $"MSI-X vector {vector.Subindex} read {before} before the doorbell, {interrupts} after";
                return 0xFFFF;
            }

            if (((dw3 >> 16) & 1) != queue.Phase || (dw3 & 0xFFFF) != id || (dw2 >> 16) != queue.Id)
            {
                failure = $"no completion for command {id} at entry {queue.Head} of completion queue {queue.Id} (DW2 0x{dw2:x}, DW3 0x{dw3:x}, phase {queue.Phase})";
                return 0xFFFF;
            }

            queue.Head++;
            if (queue.Head == queue.Entries)
            {
                queue.Head = 0;
                queue.Phase ^= 1; // the controller inverts the phase tag on each pass through the queue
            }

            _nvme._bar0.Write32(Doorbells + (((2 * queue.Id) + 1) * stride), (uint)queue.Head);
            failure = null;
            return (ushort)(dw3 >> 17);
        }

        public void Dispose()
        {
            Mapping.Dispose();
            Buffer.Dispose();
        }

        private sealed class QueueState(int id, int entries)
        {
            public int Id { get; } = id;

            public int Entries { get; } = entries;

            public int Tail { get; set; }

            public int Head { get; set; }

            public uint Phase { get; set; } = 1;
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
