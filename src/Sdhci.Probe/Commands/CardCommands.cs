using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
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
        var iommufd = UseIommufd();
        var command = new Command("init", "Reset, power and clock the bus, bring the card up (CMD0, CMD8, ACMD41, CMD2, CMD3, CMD9, CMD7, ACMD51, 4-bit) and print CID, CSD and SCR decoded.") { device, noIommu, bind, poll, iommufd };
        command.SetAction(result => CommonOptions.Run(() => WithCard(new CardSession(result.GetValue(device)!, result.GetValue(noIommu), result.GetValue(bind), result.GetValue(poll), result.GetValue(iommufd)), (session, card, info, _) =>
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
        var iommufd = UseIommufd();
        var command = new Command("read", "Bring the card up and read blocks by PIO, SDMA or ADMA2. Ctrl-C stops at the next command boundary, resets the controller and gives a --bind device back (exit 130).") { device, lba, count, output, mode, noIommu, bind, poll, iommufd };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var blocks = result.GetValue(count);
            if (blocks <= 0)
            {
                Console.Error.WriteLine("sdhci-probe: --count must be positive");
                return ExitCodes.Usage;
            }

            var transfer = result.GetValue(mode) switch { "sdma" => SdhciTransferMode.Sdma, "adma2" => SdhciTransferMode.Adma2, _ => SdhciTransferMode.Pio };
            return WithCard(new CardSession(result.GetValue(device)!, result.GetValue(noIommu), result.GetValue(bind), result.GetValue(poll), result.GetValue(iommufd)), (session, card, info, stop) =>
            {
                var first = result.GetValue(lba);
                byte[] data;
                if (transfer == SdhciTransferMode.Pio)
                {
                    data = card.ReadBlocks(first, blocks, transfer, progress: Progress(blocks, stop));
                }
                else
                {
                    // One DMA window, reused: long reads are split by the card engine to fit it.
                    var window = Math.Min(blocks, 256) * SdCard.BlockSize;
                    using var buffer = DmaBuffer.Allocate(SdhciHost.RequiredDmaLength(transfer, window));
                    using var mapping = RequireDma(session).MapDma(buffer);
                    data = card.ReadBlocks(first, blocks, transfer, new MappedDmaMemory(mapping), Progress(blocks, stop));
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

    public static Command CreateWrite()
    {
        var device = CommonOptions.Device();
        var lba = new Option<long>("--lba") { Description = "First block (512 bytes each).", Required = true };
        var input = new Option<FileInfo?>("--in") { Description = "Write this file; its length must be a whole number of 512-byte blocks." };
        var pattern = new Option<string?>("--pattern") { Description = "Instead of --in: fill --count blocks with this text, repeated (each block starts with it)." };
        var count = new Option<int>("--count") { Description = "Blocks to write with --pattern.", DefaultValueFactory = _ => 1 };
        var mode = new Option<string>("--mode") { Description = "pio, sdma or adma2 (DMA through the IOMMU; not in no-IOMMU mode).", DefaultValueFactory = _ => "pio" };
        mode.AcceptOnlyFromAmong("pio", "sdma", "adma2");
        var allowWrite = new Option<bool>("--allow-write") { Description = "Required: writing destroys what the card held there." };
        var noIommu = CommonOptions.NoIommu();
        var bind = CommonOptions.BindForCommand();
        var poll = Poll();
        var iommufd = UseIommufd();
        var command = new Command("write", "Bring the card up and write blocks (PIO, SDMA or ADMA2). Refused without --allow-write.") { device, lba, input, pattern, count, mode, allowWrite, noIommu, bind, poll, iommufd };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            if (!result.GetValue(allowWrite))
            {
                Console.Error.WriteLine("sdhci-probe: write changes the card: pass --allow-write to confirm (nothing was touched)");
                return ExitCodes.Usage;
            }

            byte[] data;
            if (result.GetValue(input) is { } file)
            {
                data = File.ReadAllBytes(file.FullName);
                if (data.Length == 0 || data.Length % SdCard.BlockSize != 0)
                {
                    Console.Error.WriteLine($"sdhci-probe: {file.FullName} is {data.Length} bytes, not a whole number of 512-byte blocks; pad it (truncate -s)");
                    return ExitCodes.Usage;
                }
            }
            else if (result.GetValue(pattern) is { Length: > 0 } text && result.GetValue(count) > 0)
            {
                data = PatternBlocks(text, result.GetValue(count));
            }
            else
            {
                Console.Error.WriteLine("sdhci-probe: give --in FILE, or --pattern TEXT with a positive --count");
                return ExitCodes.Usage;
            }

            var transfer = result.GetValue(mode) switch { "sdma" => SdhciTransferMode.Sdma, "adma2" => SdhciTransferMode.Adma2, _ => SdhciTransferMode.Pio };
            var blocks = data.Length / SdCard.BlockSize;
            return WithCard(new CardSession(result.GetValue(device)!, result.GetValue(noIommu), result.GetValue(bind), result.GetValue(poll), result.GetValue(iommufd), AllowWrite: true), (session, card, info, stop) =>
            {
                var first = result.GetValue(lba);
                if (transfer == SdhciTransferMode.Pio)
                {
                    card.WriteBlocks(first, data, transfer, progress: Progress(blocks, stop));
                }
                else
                {
                    var window = Math.Min(blocks, 256) * SdCard.BlockSize;
                    using var buffer = DmaBuffer.Allocate(SdhciHost.RequiredDmaLength(transfer, window));
                    using var mapping = RequireDma(session).MapDma(buffer);
                    card.WriteBlocks(first, data, transfer, new MappedDmaMemory(mapping), Progress(blocks, stop));
                }

                Console.Error.WriteLine($"{blocks} blocks ({data.Length} bytes) written at LBA {first}");
                return ExitCodes.Ok;
            });
        }));
        return command;
    }

    /// <summary><paramref name="count"/> blocks, each filled with <paramref name="text"/> repeated from its start.</summary>
    internal static byte[] PatternBlocks(string text, int count)
    {
        var unit = Encoding.UTF8.GetBytes(text);
        var data = new byte[count * SdCard.BlockSize];
        for (var block = 0; block < count; block++)
        {
            var span = data.AsSpan(block * SdCard.BlockSize, SdCard.BlockSize);
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = unit[i % unit.Length];
            }
        }

        return data;
    }

    private static Option<bool> Poll() => new("--poll") { Description = "Poll the interrupt status instead of waiting for interrupts." };

    private static Option<bool> UseIommufd() => new("--iommufd") { Description = "Open the controller through its VFIO device cdev and /dev/iommu (kernels with IOMMUFD) instead of its group." };

    private static IDmaSpace RequireDma(ControllerSession session) =>
        session.DmaSpace ?? throw new VfioException("map DMA", session.Device.Name, Vfio.Native.Errno.EPERM,
            "No IOMMU: DMA mapping is unavailable in no-IOMMU mode; use --mode pio.");

    private sealed record CardSession(string Name, bool NoIommu, bool Bind, bool Poll, bool Iommufd, bool AllowWrite = false);

    private static int WithCard(CardSession options, Func<ControllerSession, SdCard, SdCardInfo, CancellationToken, int> body)
    {
        var name = options.Name;
        // Ctrl-C and SIGTERM: stop at the next command boundary, then reset the controller and undo --bind
        // (the finally and the using below) instead of dying with the card mid-transfer.
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupted);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupted);
        using var session = ControllerSession.Open(name, options.NoIommu, options.Bind, useIommufd: options.Iommufd);
        using var irq = options.Poll ? null : session.EnableInterrupt();
        var host = new SdhciHost(session.Registers, irq is null ? new PollingInterrupt() : new VfioSdhciInterrupt(irq), new SdhciHostOptions { AllowWrite = options.AllowWrite });
        var card = new SdCard(host);
        try
        {
            var info = card.Initialize();
            stop.Token.ThrowIfCancellationRequested();
            return body(session, card, info, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine($"sdhci-probe: {name}: interrupted; the controller is reset{(options.Bind ? " and given back to its driver" : "")}");
            return ExitCodes.Interrupted;
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

        void Interrupted(PosixSignalContext context)
        {
            context.Cancel = true; // no default termination: unwind and clean up
            stop.Cancel();
        }
    }

    /// <summary>Reports after every command (a chunk of blocks): the place where Ctrl-C takes effect, and a
    /// progress line on a terminal for long transfers.</summary>
    private static BlockProgress Progress(int total, CancellationToken stop) =>
        new(total, show: total >= 2048 && !Console.IsErrorRedirected, stop);

    private sealed class BlockProgress(int total, bool show, CancellationToken stop) : IProgress<int>
    {
        public void Report(int value)
        {
            stop.ThrowIfCancellationRequested();
            if (show)
            {
                Console.Error.Write($"\r{value}/{total} blocks ({100L * value / total}%)");
                if (value == total)
                {
                    Console.Error.WriteLine();
                }
            }
        }
    }

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
