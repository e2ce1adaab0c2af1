using System.CommandLine;
using System.Diagnostics;
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
        var json = CommonOptions.Json();
        var noIommu = CommonOptions.NoIommu();
        var bind = CommonOptions.BindForCommand();
        var poll = Poll();
        var iommufd = UseIommufd();
        var blockCount = BlockCount();
        var command = new Command("init", "Reset, power and clock the bus, bring the card up (CMD0, CMD8, ACMD41, CMD2, CMD3, CMD9, CMD7, ACMD51, 4-bit) and print CID, CSD and SCR decoded.") { device, json, noIommu, bind, poll, iommufd, blockCount };
        command.SetAction(result => CommonOptions.Run(() => WithCard(Session(result, device, noIommu, bind, poll, iommufd, blockCount), context =>
        {
            if (result.GetValue(json))
                CommonOptions.WriteJson(CardReport.From(context.Info), ProbeJson.Default.CardReport);
            else
                Console.WriteLine(Describe(context.Info));
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
        var mode = Mode("pio (through the data port), sdma or adma2 (DMA through the IOMMU; with --noiommu by physical address, from a 2 MiB huge page: reserve one in /proc/sys/vm/nr_hugepages).");
        var json = CommonOptions.Json();
        var noIommu = CommonOptions.NoIommu();
        var bind = CommonOptions.BindForCommand();
        var poll = Poll();
        var iommufd = UseIommufd();
        var blockCount = BlockCount();
        var command = new Command("read", "Bring the card up and read blocks by PIO, SDMA or ADMA2. Ctrl-C stops at the next command boundary, resets the controller and gives a --bind device back (exit 130).") { device, lba, count, output, mode, json, noIommu, bind, poll, iommufd, blockCount };
        command.SetAction(result => CommonOptions.Run(() =>
        {
            var blocks = result.GetValue(count);
            if (blocks <= 0)
            {
                Console.Error.WriteLine("sdhci-probe: --count must be positive");
                return ExitCodes.Usage;
            }

            var transfer = ParseMode(result.GetValue(mode));
            var asJson = result.GetValue(json);
            return WithCard(Session(result, device, noIommu, bind, poll, iommufd, blockCount), context =>
            {
                var first = result.GetValue(lba);
                var data = new byte[blocks * SdCard.BlockSize];
                var elapsed = Timed(context, transfer, blocks, dma => context.Card.ReadBlocks(first, data, transfer, dma, Progress(blocks, context.Stop, quiet: asJson)));
                var file = result.GetValue(output);
                if (file is not null)
                    File.WriteAllBytes(file.FullName, data);
                if (asJson)
                {
                    CommonOptions.WriteJson(Report(context, SdhciTransferDirection.Read, first, data, transfer, elapsed, file?.FullName, includeData: file is null),
                        ProbeJson.Default.TransferReport);
                }
                else if (file is not null)
                {
                    Console.Error.WriteLine($"{blocks} blocks from LBA {first} ({data.Length} bytes) written to {file.FullName}; {Rate(data.Length, elapsed)}");
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
        var mode = Mode("pio, sdma or adma2 (DMA through the IOMMU; with --noiommu by physical address, from a 2 MiB huge page).");
        var allowWrite = new Option<bool>("--allow-write") { Description = "Required: writing destroys what the card held there." };
        var json = CommonOptions.Json();
        var noIommu = CommonOptions.NoIommu();
        var bind = CommonOptions.BindForCommand();
        var poll = Poll();
        var iommufd = UseIommufd();
        var blockCount = BlockCount();
        var command = new Command("write", "Bring the card up and write blocks (PIO, SDMA or ADMA2). Refused without --allow-write.") { device, lba, input, pattern, count, mode, allowWrite, json, noIommu, bind, poll, iommufd, blockCount };
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

            var transfer = ParseMode(result.GetValue(mode));
            var blocks = data.Length / SdCard.BlockSize;
            var asJson = result.GetValue(json);
            return WithCard(Session(result, device, noIommu, bind, poll, iommufd, blockCount) with { AllowWrite = true }, context =>
            {
                var first = result.GetValue(lba);
                var elapsed = Timed(context, transfer, blocks, dma => context.Card.WriteBlocks(first, data, transfer, dma, Progress(blocks, context.Stop, quiet: asJson)));
                if (asJson)
                    CommonOptions.WriteJson(Report(context, SdhciTransferDirection.Write, first, data, transfer, elapsed, null, includeData: false), ProbeJson.Default.TransferReport);
                else
                    Console.Error.WriteLine($"{blocks} blocks ({data.Length} bytes) written at LBA {first}; {Rate(data.Length, elapsed)}");
                return ExitCodes.Ok;
            });
        }));
        return command;
    }

    /// <summary>The option's spelling of a block-count mode.</summary>
    internal static string Name(SdBlockCountMode mode) => mode switch
    {
        SdBlockCountMode.AutoCmd12 => "cmd12",
        SdBlockCountMode.Cmd23 => "cmd23",
        _ => "auto",
    };

    private static Option<string> Mode(string description)
    {
        var mode = new Option<string>("--mode") { Description = description, DefaultValueFactory = _ => "pio" };
        mode.AcceptOnlyFromAmong("pio", "sdma", "adma2");
        return mode;
    }

    private static SdhciTransferMode ParseMode(string? mode) =>
        mode switch { "sdma" => SdhciTransferMode.Sdma, "adma2" => SdhciTransferMode.Adma2, _ => SdhciTransferMode.Pio };

    private static Option<string> BlockCount()
    {
        var option = new Option<string>("--block-count")
        {
            Description = "How multi-block commands end: cmd23 (SET_BLOCK_COUNT first: the card stops by itself), cmd12 (the controller's auto-CMD12 after the last block), " +
                          "or auto (cmd23 when the card's SCR lists it, else cmd12). cmd23 is tried even if the SCR does not list it.",
            DefaultValueFactory = _ => "auto",
        };
        option.AcceptOnlyFromAmong("auto", "cmd12", "cmd23");
        return option;
    }

    private static CardSession Session(ParseResult result, Argument<string> device, Option<bool> noIommu, Option<bool> bind, Option<bool> poll, Option<bool> iommufd,
        Option<string> blockCount) =>
        new(result.GetValue(device)!, result.GetValue(noIommu), result.GetValue(bind), result.GetValue(poll), result.GetValue(iommufd),
            BlockCount: result.GetValue(blockCount) switch { "cmd12" => SdBlockCountMode.AutoCmd12, "cmd23" => SdBlockCountMode.Cmd23, _ => SdBlockCountMode.Auto });

    /// <summary>Runs a transfer (with one DMA window for the DMA modes: the card engine splits long
    /// transfers to fit it) and times it, without the bring-up.</summary>
    private static TimeSpan Timed(CardContext context, SdhciTransferMode transfer, int blocks, Action<IDmaMemory?> run)
    {
        if (transfer == SdhciTransferMode.Pio)
        {
            var start = Stopwatch.GetTimestamp();
            run(null);
            return Stopwatch.GetElapsedTime(start);
        }

        var window = Math.Min(blocks, context.Card.Options.MaxBlocksPerCommand) * SdCard.BlockSize;
        var space = RequireDma(context.Session);
        // No IOMMU: the controller gets physical addresses, which only a huge page keeps contiguous and in place.
        using var buffer = DmaBuffer.Allocate(SdhciHost.RequiredDmaLength(transfer, window), hugePages: space is PhysicalDmaSpace);
        using var mapping = space.MapDma(buffer);
        var begin = Stopwatch.GetTimestamp();
        run(new MappedDmaMemory(mapping));
        return Stopwatch.GetElapsedTime(begin);
    }

    private static TransferReport Report(CardContext context, SdhciTransferDirection direction, long lba, byte[] data, SdhciTransferMode mode, TimeSpan elapsed,
        string? file, bool includeData) =>
        new(context.Session.Device.Name, direction == SdhciTransferDirection.Read ? "read" : "write", lba, data.Length / SdCard.BlockSize, data.Length,
            mode.ToString().ToLowerInvariant(), Name(context.Info.BlockCountMode), Math.Round(context.BringUp.TotalSeconds, 6), Math.Round(elapsed.TotalSeconds, 6),
            Math.Round(data.Length / Math.Max(elapsed.TotalSeconds, 1e-9)), file, includeData ? Convert.ToBase64String(data) : null, CardReport.From(context.Info));

    private static string Rate(long bytes, TimeSpan elapsed) =>
        string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds:0.###} s, {bytes / 1e6 / Math.Max(elapsed.TotalSeconds, 1e-9):0.##} MB/s");

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
        session.DmaSpace ?? session.Device.PhysicalDmaSpace ?? throw new VfioException("map DMA", session.Device.Name, Vfio.Native.Errno.EPERM,
            "The device has no DMA address space; use --mode pio.");

    private sealed record CardSession(string Name, bool NoIommu, bool Bind, bool Poll, bool Iommufd, bool AllowWrite = false,
        SdBlockCountMode BlockCount = SdBlockCountMode.Auto);

    /// <summary>What a card command's body works with: the open controller, the card brought up, how long that took, and the Ctrl-C token.</summary>
    private sealed record CardContext(ControllerSession Session, SdCard Card, SdCardInfo Info, TimeSpan BringUp, CancellationToken Stop);

    private static int WithCard(CardSession options, Func<CardContext, int> body)
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
        var card = new SdCard(host, new SdCardOptions { BlockCountMode = options.BlockCount });
        try
        {
            var start = Stopwatch.GetTimestamp();
            var info = card.Initialize();
            var bringUp = Stopwatch.GetElapsedTime(start);
            stop.Token.ThrowIfCancellationRequested();
            return body(new CardContext(session, card, info, bringUp, stop.Token));
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
    /// progress bar on a terminal for long transfers.</summary>
    private static BlockProgress Progress(int total, CancellationToken stop, bool quiet = false) =>
        new(total, quiet || Console.IsErrorRedirected ? null : Console.Error, stop);

    /// <summary>Counts blocks; with a terminal to draw on and a transfer of at least 1 MiB, redraws one line:
    /// <c>[##########----------]  50%  8.0/16.0 MiB  2.31 MB/s</c>.</summary>
    internal sealed class BlockProgress(int total, TextWriter? terminal, CancellationToken stop) : IProgress<int>
    {
        /// <summary>Transfers shorter than this finish before a bar is worth drawing.</summary>
        public const int MinimumBlocks = 2048;

        private const int Width = 30;
        private readonly long _start = Stopwatch.GetTimestamp();

        public void Report(int value)
        {
            stop.ThrowIfCancellationRequested();
            if (terminal is null || total < MinimumBlocks)
                return;
            terminal.Write('\r' + Line(value, total, Stopwatch.GetElapsedTime(_start)));
            if (value >= total)
                terminal.WriteLine();
        }

        /// <summary>The bar for <paramref name="done"/> of <paramref name="all"/> blocks after <paramref name="elapsed"/>.</summary>
        internal static string Line(int done, int all, TimeSpan elapsed)
        {
            done = Math.Clamp(done, 0, all);
            var filled = (int)((long)Width * done / all);
            var mib = done * (double)SdCard.BlockSize / (1 << 20);
            var rate = elapsed > TimeSpan.Zero ? done * (double)SdCard.BlockSize / 1e6 / elapsed.TotalSeconds : 0;
            return string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', filled)}{new string('-', Width - filled)}] {100L * done / all,3}%  {mib:0.0}/{all * (double)SdCard.BlockSize / (1 << 20):0.0} MiB  {rate:0.00} MB/s");
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
        text.AppendLine(CultureInfo.InvariantCulture, $"Multi-block: {(info.BlockCountMode == SdBlockCountMode.Cmd23 ? "CMD23 (SET_BLOCK_COUNT) before each command" : "auto-CMD12 after the last block")}, CMD23 {(info.Scr.SupportsCmd23 ? "listed" : "not listed")} in the SCR");
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
