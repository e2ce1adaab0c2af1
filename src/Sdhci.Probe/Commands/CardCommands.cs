using System.CommandLine;
using System.Globalization;
using System.Text;
using Sdhci.Probe.Sdhci;
using Vfio.Platform;
using Vfio.Platform.Dma;
using Vfio.Platform.Interrupts;

namespace Sdhci.Probe.Commands;

/// <summary><c>sdhci-probe init</c> and <c>read</c>: bring a card up and read blocks, from userspace.</summary>
internal static class CardCommands
{
    public static Command CreateInit()
    {
        var device = CommonOptions.Device();
        var noIommu = CommonOptions.NoIommu();
        var bind = CommonOptions.BindForCommand();
        var poll = Poll();
        var command = new Command("init", "Reset, power and clock the bus, bring the card up (CMD0, CMD8, ACMD41, CMD2, CMD3, CMD9, CMD7, ACMD51, 4-bit) and print CID, CSD and SCR decoded.") { device, noIommu, bind, poll };
        command.SetAction(result => CommonOptions.Run(() => WithCard(result.GetValue(device)!, result.GetValue(noIommu), result.GetValue(bind), result.GetValue(poll), (session, card, info) =>
        {
            Console.WriteLine(Describe(info));
            return ExitCodes.Ok;
        })));
        return command;
    }

    public static Command CreateRead()
    {
        var device = CommonOptions.Device();
        var lba = new Option<long>("--lba") { Description = "First block (512 bytes each).", DefaultValueFactory = _ => 0 };
        var count = new Option<int>("--count") { Description = "How many blocks.", DefaultValueFactory = _ => 1 };
        var output = new Option<FileInfo?>("--out") { Description = "Write the blocks to this file instead of printing a hex dump." };
        var mode = new Option<string>("--mode") { Description = "pio (through the data port), sdma or adma2 (DMA through the IOMMU; not in no-IOMMU mode).", DefaultValueFactory = _ => "pio" };
        mode.AcceptOnlyFromAmong("pio", "sdma", "adma2");
        var noIommu = CommonOptions.NoIommu();
        var bind = CommonOptions.BindForCommand();
        var poll = Poll();
        var command = new Command("read", "Bring the card up and read blocks by PIO, SDMA or ADMA2.") { device, lba, count, output, mode, noIommu, bind, poll };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var blocks = result.GetValue(count);
            if (blocks <= 0)
            {
                Console.Error.WriteLine("sdhci-probe: --count must be positive");
                return ExitCodes.Usage;
            }

            var transfer = result.GetValue(mode) switch { "sdma" => SdhciTransferMode.Sdma, "adma2" => SdhciTransferMode.Adma2, _ => SdhciTransferMode.Pio };
            return WithCard(result.GetValue(device)!, result.GetValue(noIommu), result.GetValue(bind), result.GetValue(poll), (session, card, info) =>
            {
                var first = result.GetValue(lba);
                byte[] data;
                if (transfer == SdhciTransferMode.Pio)
                {
                    data = card.ReadBlocks(first, blocks, transfer, progress: Progress(blocks));
                }
                else
                {
                    // One DMA window, reused: long reads are split by the card engine to fit it.
                    var window = Math.Min(blocks, 256) * SdCard.BlockSize;
                    using var buffer = DmaBuffer.Allocate(SdhciHost.RequiredDmaLength(transfer, window));
                    using var mapping = session.Container.MapDma(buffer);
                    data = card.ReadBlocks(first, blocks, transfer, new MappedDmaMemory(mapping), Progress(blocks));
                }

                if (result.GetValue(output) is { } file)
                {
                    File.WriteAllBytes(file.FullName, data);
                    Console.Error.WriteLine($"{blocks} blocks from LBA {first} ({data.Length} bytes) written to {file.FullName}");
                }
                else
                {
                    Console.Write(HexDump(data, first * SdCard.BlockSize));
                }

                return ExitCodes.Ok;
            });
        }));
        return command;
    }

    private static Option<bool> Poll() => new("--poll") { Description = "Poll the interrupt status instead of waiting for interrupts." };

    private static int WithCard(string name, bool noIommu, bool bind, bool poll, Func<ControllerSession, SdCard, SdCardInfo, int> body)
    {
        using var session = ControllerSession.Open(name, noIommu, bind);
        using var irq = poll ? null : session.EnableInterrupt();
        var host = new SdhciHost(session.Registers, irq is null ? new PollingInterrupt() : new VfioSdhciInterrupt(irq));
        var card = new SdCard(host);
        try
        {
            var info = card.Initialize();
            return body(session, card, info);
        }
        catch (SdhciException e)
        {
            Console.Error.WriteLine($"sdhci-probe: {name}: {e.Message}");
            return ExitCodes.Failed;
        }
        finally
        {
            // Leave the controller quiet: no bus power, no clock, no pending interrupt.
            try
            {
                host.Reset(SdhciReset.All);
            }
            catch (SdhciException)
            {
            }
        }
    }

    private static Progress<int>? Progress(int total) =>
        total < 2048 || Console.IsErrorRedirected ? null : new Progress<int>(done => Console.Error.Write($"\r{done}/{total} blocks ({100L * done / total}%)"));

    internal static string Describe(SdCardInfo info)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Card: {info.Type}, RCA 0x{info.Rca:x4}, OCR 0x{info.Ocr:x8}, {info.BusWidth}-bit bus at {info.ClockHz / 1e6:0.###} MHz");
        text.AppendLine(CultureInfo.InvariantCulture, $"Capacity: {info.CapacityBytes} bytes ({info.BlockCount} blocks of 512), {(info.BlockAddressing ? "block" : "byte")} addressing");
        var cid = info.Cid;
        text.AppendLine(CultureInfo.InvariantCulture, $"CID {cid.RawHex}: manufacturer 0x{cid.ManufacturerId:x2}, OEM '{cid.OemId}', product '{cid.ProductName}', revision {cid.HardwareRevision}.{cid.FirmwareRevision}, serial 0x{cid.SerialNumber:x8}, made {cid.ManufacturingYear}-{cid.ManufacturingMonth:00}");
        text.AppendLine(CultureInfo.InvariantCulture, $"CSD {info.Csd.RawHex}: version {info.Csd.Version}, max transfer rate {info.Csd.MaxTransferRateHz / 1e6:0.###} MHz, read block length {info.Csd.ReadBlockLength}");
        text.AppendLine(CultureInfo.InvariantCulture, $"SCR {info.Scr.RawHex}: SD spec {info.Scr.SdSpec}, bus widths {(info.Scr.Supports1BitBus ? "1" : "")}{(info.Scr.Supports4BitBus ? " 4" : "")}");
        return text.ToString();
    }

    internal static string HexDump(ReadOnlySpan<byte> data, long address)
    {
        var text = new StringBuilder();
        for (var offset = 0; offset < data.Length; offset += 16)
        {
            var line = data.Slice(offset, Math.Min(16, data.Length - offset));
            text.Append(CultureInfo.InvariantCulture, $"{address + offset:x8}  ");
            for (var i = 0; i < 16; i++)
            {
                text.Append(i < line.Length ? line[i].ToString("x2", CultureInfo.InvariantCulture) + " " : "   ");
                if (i == 7)
                {
                    text.Append(' ');
                }
            }

            text.Append(" |");
            foreach (var b in line)
            {
                text.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
            }

            text.AppendLine("|");
        }

        return text.ToString();
    }

    /// <summary>The VFIO interrupt as the engine's interrupt: wait on the eventfd; after the engine
    /// cleared the status, unmask the level-triggered line.</summary>
    private sealed class VfioSdhciInterrupt(VfioInterrupt irq) : ISdhciInterrupt
    {
        public bool Wait(TimeSpan timeout) => irq.Wait(timeout) != 0;

        public void Acknowledge()
        {
            if (irq.Info.IsAutomasked)
            {
                irq.Unmask();
            }
        }
    }

    /// <summary>A DMA-mapped buffer as the engine's DMA memory.</summary>
    private sealed class MappedDmaMemory(DmaMapping mapping) : IDmaMemory
    {
        public ulong DeviceAddress => mapping.Iova;

        public Span<byte> Bytes => mapping.Buffer.Span;
    }
}
