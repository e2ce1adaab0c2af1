using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sdhci.Probe.Sdhci;
using Vfio.Platform;
using Vfio.Platform.Dma;
using Vfio.Platform.Interrupts;
using Vfio.Platform.Mmio;

namespace Sdhci.Probe.Commands;

/// <summary><c>sdhci-probe init</c>, <c>read</c> and <c>write</c>: bring a card up and move blocks, from userspace.</summary>
/// <remarks>
/// Everything that can be checked without the controller is checked first, and files are opened
/// first: a wrong command line never touches a device. Data streams a command's blocks at a time.
/// The controller's DMA is stopped before its memory is unmapped, and the controller is reset before
/// the device is closed, on every path.
/// </remarks>
internal static class CardCommands
{
    /// <summary>Reads that print their data (hex dump, base64 in --json) hold it in memory: at most this many blocks (32 KiB).</summary>
    public const int MaxInlineBlocks = 64;

    public static Command CreateInit()
    {
        var shared = new SharedOptions(retries: false);
        var command = new Command("init", "Reset, power and clock the bus, bring the card up (CMD0, CMD8, ACMD41, CMD2, CMD3, CMD9, CMD7, ACMD51, 4-bit) and print CID, CSD and SCR decoded.");
        shared.AddTo(command);
        command.SetAction(result => CommonOptions.Run(shared.DeviceName(result), () => WithCard(shared.Session(result), context =>
        {
            if (result.GetValue(shared.Json))
                CommonOptions.WriteJson(CardReport.From(context.Info, context.Card.Host), ProbeJson.Default.CardReport);
            else
                Console.WriteLine(Describe(context.Info, context.Card.Host));
            return ExitCodes.Ok;
        })));
        return command;
    }

    public static Command CreateRead()
    {
        var shared = new SharedOptions(retries: true);
        var lba = new Option<long>("--lba") { Description = "First block (512 bytes each).", DefaultValueFactory = _ => 0 };
        var count = new Option<int>("--count") { Description = $"How many blocks. Without --out at most {MaxInlineBlocks} ({MaxInlineBlocks / 2} KiB).", DefaultValueFactory = _ => 1 };
        var output = new Option<FileInfo?>("--out") { Description = "Write the blocks to this new file (mode 0600) as they arrive, instead of printing them. Removed again if the read fails. /dev/null: read and discard them (a timing run)." };
        var force = new Option<bool>("--force") { Description = "Replace an existing --out file (a non-empty regular file; never a symlink, never through one)." };
        var mode = Mode("pio (through the data port), sdma or adma2 (DMA through the IOMMU; with --noiommu by physical address, from a 2 MiB huge page: reserve one in /proc/sys/vm/nr_hugepages).");
        var command = new Command("read", "Bring the card up and read blocks by PIO, SDMA or ADMA2. SIGINT (Ctrl-C), SIGTERM and SIGHUP stop at the next command boundary, reset the controller, " +
                                          "remove a partial --out file and give a --bind device back (exit 130, 143, 129).")
        {
            lba, count, output, force, mode,
        };
        shared.AddTo(command);
        command.SetAction(result => CommonOptions.Run(shared.DeviceName(result), () =>
        {
            var first = result.GetValue(lba);
            var blocks = result.GetValue(count);
            var file = result.GetValue(output);
            var asJson = result.GetValue(shared.Json);
            CheckRange(first, blocks);
            if (file is null)
                CheckInline(blocks, asJson);
            var transfer = ParseMode(result.GetValue(mode));

            // Before the controller: a file that cannot be created must not cost a bring-up (or a --bind).
            using var sink = file is null ? null : OutputFile.Create(file.FullName, result.GetValue(force));
            return WithCard(shared.Session(result),
                context => ReadBody(context, first, blocks, transfer, sink, asJson),
                onFailure: () => sink?.Discard());
        }));
        return command;
    }

    public static Command CreateWrite()
    {
        var shared = new SharedOptions(retries: true);
        var lba = new Option<long>("--lba") { Description = "First block (512 bytes each).", Required = true };
        var input = new Option<FileInfo?>("--in") { Description = "Write this file; its length must be a whole number of 512-byte blocks (and --count blocks, if given)." };
        var pattern = new Option<string?>("--pattern") { Description = "Instead of --in: fill --count blocks with this text, repeated (each block starts with it)." };
        var count = new Option<int>("--count") { Description = "Blocks to write with --pattern; with --in, checked against the file's length.", DefaultValueFactory = _ => 1 };
        var mode = Mode("pio, sdma or adma2 (DMA through the IOMMU; with --noiommu by physical address, from a 2 MiB huge page).");
        var allowWrite = new Option<bool>("--allow-write") { Description = "Required: writing destroys what the card held there." };
        var command = new Command("write", "Bring the card up and write blocks (PIO, SDMA or ADMA2). Refused without --allow-write, and on a card whose write-protect switch or CSD write protection is set.")
        {
            lba, input, pattern, count, mode, allowWrite,
        };
        shared.AddTo(command);
        command.SetAction(result => CommonOptions.Run(shared.DeviceName(result), () =>
        {
            if (!result.GetValue(allowWrite))
            {
                Console.Error.WriteLine("sdhci-probe: write changes the card: pass --allow-write to confirm (nothing was touched)");
                return ExitCodes.Usage;
            }

            var first = result.GetValue(lba);
            var text = result.GetValue(pattern);
            var file = result.GetValue(input);
            if (file is not null && text is not null)
                throw new ArgumentException("give --in FILE or --pattern TEXT, not both");
            if (file is null && string.IsNullOrEmpty(text))
                throw new ArgumentException("give --in FILE, or --pattern TEXT with a positive --count");

            // Before the controller, like read --out: a missing or ragged file costs nothing.
            using var source = file is null ? null : InputFile.Open(file.FullName);
            var blocks = source is null
                ? result.GetValue(count)
                : BlocksOf(source, result.GetResult(count) is { Implicit: false } ? result.GetValue(count) : null);
            CheckRange(first, blocks);
            SdBlockSource fill;
            if (source is not null)
            {
                fill = (_, span) => source.Read(span);
            }
            else
            {
                var unit = Encoding.UTF8.GetBytes(text!);
                fill = (_, span) => FillPattern(span, unit);
            }

            var transfer = ParseMode(result.GetValue(mode));
            return WithCard(shared.Session(result) with { AllowWrite = true },
                context => WriteBody(context, first, blocks, transfer, fill, result.GetValue(shared.Json)));
        }));
        return command;
    }

    /// <summary>
    /// Checks a range before anything is touched: <paramref name="lba"/> at least 0, <paramref name="count"/>
    /// positive, and the byte address of its end, (lba + count) × 512, computed with overflow checks.
    /// </summary>
    /// <returns>The end's byte address.</returns>
    /// <exception cref="ArgumentException">A usage error, saying which.</exception>
    internal static long CheckRange(long lba, int count)
    {
        if (lba < 0)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--lba must be 0 or more (was {lba})"));
        if (count <= 0)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--count must be positive (was {count})"));
        try
        {
            return checked((lba + count) * SdCard.BlockSize);
        }
        catch (OverflowException)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--lba {lba} --count {count}: the end of the range, (lba + count) x 512 bytes, does not fit a 64-bit byte address"));
        }
    }

    /// <summary>Data printed to the terminal (hex) or into JSON (base64) is held in memory: small reads only.</summary>
    /// <exception cref="ArgumentException">More than <see cref="MaxInlineBlocks"/> blocks.</exception>
    internal static void CheckInline(int count, bool json)
    {
        if (count > MaxInlineBlocks)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--count {count}: {(json ? "base64 in --json" : "a hex dump")} is for at most {MaxInlineBlocks} blocks ({MaxInlineBlocks * SdCard.BlockSize / 1024} KiB); use --out FILE for more"));
        }
    }

    /// <summary>After bring-up, before the first data command: the range must lie on the card.</summary>
    /// <exception cref="ArgumentException">It does not; the message names the range's end and the card's size.</exception>
    internal static void CheckCapacity(SdCardInfo info, long lba, int count)
    {
        if (lba > info.BlockCount - count)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--lba {lba} --count {count} ends at block {lba + count}, beyond the card's {info.BlockCount} blocks ({info.CapacityBytes} bytes); nothing was transferred"));
        }
    }

    /// <summary>The blocks in <paramref name="file"/>, checked against an explicit --count.</summary>
    private static int BlocksOf(InputFile file, int? count)
    {
        var blocks = file.Length / SdCard.BlockSize;
        if (blocks > int.MaxValue)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--in {file.Path}: {blocks} blocks is more than one write takes ({int.MaxValue}); split it"));
        }

        if (count is { } given && given != blocks)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--in {file.Path} holds {blocks} blocks ({file.Length} bytes) but --count is {given}; drop --count or make them agree"));
        }

        return (int)blocks;
    }

    /// <summary>The read after bring-up: into <paramref name="file"/> as the blocks arrive, or into memory for a hex dump or base64.</summary>
    internal static int ReadBody(CardContext context, long first, int blocks, SdhciTransferMode transfer, OutputFile? file, bool asJson)
    {
        byte[]? inline = null;
        SdBlockSink sink;
        if (file is not null)
        {
            sink = (_, span) => file.Write(span);
        }
        else
        {
            CheckInline(blocks, asJson);
            inline = new byte[blocks * SdCard.BlockSize];
            sink = (at, span) => span.CopyTo(inline.AsSpan((int)(at - first) * SdCard.BlockSize));
        }

        var timing = Read(context, first, blocks, transfer, sink, Progress(blocks, context.Stop, quiet: asJson));
        file?.Commit();
        var bytes = (long)blocks * SdCard.BlockSize;
        if (asJson)
            CommonOptions.WriteJson(Report(context, "read", first, blocks, transfer, timing, file?.Path, inline), ProbeJson.Default.TransferReport);
        else if (file is not null)
            Console.Error.WriteLine($"{blocks} blocks from LBA {first} ({bytes} bytes) written to {file.Path}; {Rate(bytes, timing)}");
        else
            Console.Write(HexDump(inline, first * SdCard.BlockSize));
        return ExitCodes.Ok;
    }

    /// <summary>The write after bring-up, a command's blocks at a time from <paramref name="source"/>.</summary>
    internal static int WriteBody(CardContext context, long first, int blocks, SdhciTransferMode transfer, SdBlockSource source, bool asJson)
    {
        var timing = Write(context, first, blocks, transfer, source, Progress(blocks, context.Stop, quiet: asJson));
        var bytes = (long)blocks * SdCard.BlockSize;
        if (asJson)
            CommonOptions.WriteJson(Report(context, "write", first, blocks, transfer, timing, null, null), ProbeJson.Default.TransferReport);
        else
            Console.Error.WriteLine($"{blocks} blocks ({bytes} bytes) written at LBA {first}; {Rate(bytes, timing)}");
        return ExitCodes.Ok;
    }

    /// <summary>Reads <paramref name="count"/> blocks into <paramref name="sink"/>, a command at a time, after checking the card's size.</summary>
    internal static TransferTiming Read(CardContext context, long lba, int count, SdhciTransferMode mode, SdBlockSink sink, IProgress<int>? progress)
    {
        CheckCapacity(context.Info, lba, count);
        return Timed(context, mode, count, dma => context.Card.ReadBlocks(lba, count, sink, mode, dma, progress));
    }

    /// <summary>Writes <paramref name="count"/> blocks from <paramref name="source"/> after checking the card's size and write protection.</summary>
    /// <exception cref="SdhciException"><see cref="SdhciError.WriteProtected"/>, before any command reaches the card.</exception>
    internal static TransferTiming Write(CardContext context, long lba, int count, SdhciTransferMode mode, SdBlockSource source, IProgress<int>? progress)
    {
        CheckCapacity(context.Info, lba, count);
        context.Card.ThrowIfWriteProtected();
        return Timed(context, mode, count, dma => context.Card.WriteBlocks(lba, count, source, mode, dma, progress));
    }

    /// <summary>The option's spelling of a block-count mode (--block-count takes these and only these).</summary>
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

    internal static SdBusSpeed ParseSpeed(string? key) =>
        Enum.GetValues<SdBusSpeed>().FirstOrDefault(speed => SdBusSpeeds.Key(speed) == key, SdBusSpeed.Sdr104);

    /// <summary>
    /// Runs a transfer and times it, without the bring-up. The DMA modes get one window of DMA memory (the
    /// card engine splits long transfers to fit it); whatever happens in <paramref name="run"/>, the
    /// controller's DMA is stopped by a data-line reset before the window is unmapped and freed.
    /// </summary>
    internal static TransferTiming Timed(CardContext context, SdhciTransferMode transfer, int blocks, Action<IDmaMemory?> run)
    {
        if (transfer == SdhciTransferMode.Pio)
        {
            var start = Stopwatch.GetTimestamp();
            run(null);
            return new(Stopwatch.GetElapsedTime(start), null);
        }

        var allocate = context.AllocateDma ?? throw new ArgumentException($"--mode {transfer.ToString().ToLowerInvariant()}: this controller has no DMA memory here; use --mode pio");
        var window = Math.Min(blocks, Math.Clamp(context.Card.Options.MaxBlocksPerCommand, 1, ushort.MaxValue)) * SdCard.BlockSize;
        var memory = allocate(context.Card.Host.RequiredDmaLengthFor(transfer, window));
        try
        {
            var begin = Stopwatch.GetTimestamp();
            run(memory);
            return new(Stopwatch.GetElapsedTime(begin), memory.DeviceAddress);
        }
        finally
        {
            Release(context, memory);
        }
    }

    /// <summary>
    /// Stops the controller's DMA (data line reset; if that fails, a full reset), then unmaps and frees
    /// <paramref name="memory"/>. A controller that resets neither way may still be writing: its memory
    /// is then kept, mapped, for as long as the program lives, never handed back while DMA may land in it.
    /// </summary>
    private static void Release(CardContext context, IOwnedDmaMemory memory)
    {
        if (StopDma(context.Card.Host))
        {
            memory.Dispose();
            return;
        }

        lock (Abandoned)
            Abandoned.Add(memory);
        Console.Error.WriteLine(CommonOptions.Line(context.Device,
            "the controller did not reset, so its DMA may still run: its DMA memory stays mapped until the program exits"));
    }

    private static bool StopDma(ISdhciHost host)
    {
        foreach (var reset in (ReadOnlySpan<SdhciReset>)[SdhciReset.DataLine, SdhciReset.All])
        {
            try
            {
                host.Reset(reset);
                return true;
            }
            catch (SdhciException)
            {
            }
        }

        return false;
    }

    /// <summary>DMA memory of controllers that would not reset: referenced here so nothing frees it.</summary>
    private static readonly List<IOwnedDmaMemory> Abandoned = [];

    private static TransferReport Report(CardContext context, string direction, long lba, int blocks, SdhciTransferMode mode, TransferTiming timing,
        string? file, byte[]? data)
    {
        var bytes = (long)blocks * SdCard.BlockSize;
        var seconds = timing.Elapsed.TotalSeconds;
        var adma = mode == SdhciTransferMode.Adma2 ? SdhciHost.Describe(context.Card.Host.Adma2Format) : null;
        return new(context.Device, direction, lba, blocks, bytes, mode.ToString().ToLowerInvariant(), adma, Name(context.Info.BlockCountMode),
            Math.Round(context.BringUp.TotalSeconds, 6), Math.Round(seconds, 6), Math.Round(bytes / Math.Max(seconds, 1e-9)),
            Hex(timing.DmaAddress), file, data is null ? null : Convert.ToBase64String(data), CardReport.From(context.Info, context.Card.Host));
    }

    private static string? Hex(ulong? address) => address is { } a ? string.Create(CultureInfo.InvariantCulture, $"0x{a:x}") : null;

    /// <summary>The time and, for DMA, where the DMA memory was (the IOVA, or without an IOMMU the physical address).</summary>
    private static string Rate(long bytes, TransferTiming timing)
    {
        var seconds = timing.Elapsed.TotalSeconds;
        var rate = string.Create(CultureInfo.InvariantCulture, $"{seconds:0.###} s, {bytes / 1e6 / Math.Max(seconds, 1e-9):0.##} MB/s");
        return timing.DmaAddress is null ? rate : $"{rate}; DMA memory at {Hex(timing.DmaAddress)}";
    }

    /// <summary><paramref name="count"/> blocks, each filled with <paramref name="text"/> repeated from its start.</summary>
    internal static byte[] PatternBlocks(string text, int count)
    {
        var data = new byte[checked(count * SdCard.BlockSize)];
        FillPattern(data, Encoding.UTF8.GetBytes(text));
        return data;
    }

    /// <summary>Fills whole blocks with <paramref name="unit"/>, repeated from each block's start.</summary>
    internal static void FillPattern(Span<byte> blocks, ReadOnlySpan<byte> unit)
    {
        for (var start = 0; start < blocks.Length; start += SdCard.BlockSize)
        {
            var block = blocks.Slice(start, Math.Min(SdCard.BlockSize, blocks.Length - start));
            for (var i = 0; i < block.Length; i++)
                block[i] = unit[i % unit.Length];
        }
    }

    private static IDmaSpace RequireDma(ControllerSession session) =>
        session.DmaSpace ?? session.Device.PhysicalDmaSpace ?? throw new VfioException("map DMA", session.Device.Name, Vfio.Native.Errno.EPERM,
            "The device has no DMA address space; use --mode pio.");

    /// <summary>
    /// The device and the options init, read and write share, declared once: each command makes one,
    /// adds it after its own options (so --help lists a command's own first) and reads it back into a
    /// <see cref="CardSession"/>. Only read and write take --retries: init moves no blocks.
    /// </summary>
    private sealed class SharedOptions(bool retries)
    {
        public Argument<string> Device { get; } = CommonOptions.Device();

        public Option<bool> Json { get; } = CommonOptions.Json();

        public Option<bool> NoIommu { get; } = CommonOptions.NoIommu();

        public Option<bool> Bind { get; } = CommonOptions.BindForCommand();

        public Option<bool> Poll { get; } = new("--poll") { Description = "Poll the interrupt status instead of waiting for interrupts." };

        public Option<bool> Iommufd { get; } = new("--iommufd") { Description = "Open the controller through its VFIO device cdev and /dev/iommu (kernels with IOMMUFD) instead of its group." };

        public Option<string> BlockCount { get; } = BlockCountOption();

        public Option<string> MaxSpeed { get; } = MaxSpeedOption();

        public Option<int>? Retries { get; } = retries ? RetriesOption() : null;

        public void AddTo(Command command)
        {
            command.Add(Device);
            foreach (var option in (ReadOnlySpan<Option>)[Json, NoIommu, Bind, Poll, Iommufd, BlockCount, MaxSpeed])
                command.Add(option);
            if (Retries is not null)
                command.Add(Retries);
        }

        public string DeviceName(ParseResult result) => result.GetValue(Device)!;

        public CardSession Session(ParseResult result) =>
            new(DeviceName(result), result.GetValue(NoIommu), result.GetValue(Bind), result.GetValue(Poll), result.GetValue(Iommufd),
                BlockCount: Enum.GetValues<SdBlockCountMode>().FirstOrDefault(mode => Name(mode) == result.GetValue(BlockCount), SdBlockCountMode.Auto),
                MaxSpeed: ParseSpeed(result.GetValue(MaxSpeed)),
                Retries: Retries is null ? SdCardOptions.DefaultRetries : result.GetValue(Retries));

        /// <summary>How often a failed block command is retried (after line resets, CMD13 and CMD12 where needed).</summary>
        private static Option<int> RetriesOption()
        {
            var option = new Option<int>("--retries")
            {
                Description = $"Retries of a block command after a CRC, end-bit, index, timeout, ADMA or auto-CMD12 error, each after resetting the CMD/DAT lines, " +
                              $"CMD13 and (when the card is still sending or receiving) CMD12; 0 fails on the first error. A removed card is never retried. Default {SdCardOptions.DefaultRetries}, as Linux.",
                DefaultValueFactory = _ => SdCardOptions.DefaultRetries,
            };
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() is < 0 or > 100)
                    result.AddError("--retries must be 0 to 100");
            });
            return option;
        }

        /// <summary>How multi-block commands end; its values are <see cref="Name(SdBlockCountMode)"/> of each mode.</summary>
        private static Option<string> BlockCountOption()
        {
            var option = new Option<string>("--block-count")
            {
                Description = "How multi-block commands end: cmd23 (SET_BLOCK_COUNT first: the card stops by itself), cmd12 (the controller's auto-CMD12 after the last block), " +
                              "or auto (cmd23 when the card's SCR lists it, else cmd12). cmd23 is tried even if the SCR does not list it.",
                DefaultValueFactory = _ => "auto",
            };
            option.AcceptOnlyFromAmong([.. Enum.GetValues<SdBlockCountMode>().Select(Name)]);
            return option;
        }

        /// <summary>The bus speed cap; its values are <see cref="SdBusSpeeds.Key"/> of each mode the driver brings up, slowest first.</summary>
        private static Option<string> MaxSpeedOption()
        {
            var option = new Option<string>("--max-speed")
            {
                Description = "The fastest bus speed mode to try, slowest first: default (25 MHz), high (High Speed, 50 MHz, after a CMD6 switch), sdr50 (UHS-I, 100 MHz), " +
                              "ddr50 (UHS-I, 50 MHz on both clock edges) or sdr104 (UHS-I, 208 MHz): the UHS-I modes need a host with 1.8 V and the mode in its " +
                              "capabilities and a card that accepts 1.8 V (CMD11); SDR104 and SDR50 then tune (CMD19), and a tuning that fails falls back to SDR25. " +
                              "Default: sdr104, the fastest that works; init says which mode it chose and why.",
                DefaultValueFactory = _ => SdBusSpeeds.Key(SdBusSpeed.Sdr104),
            };
            option.AcceptOnlyFromAmong([.. Enum.GetValues<SdBusSpeed>().OrderBy(SdBusSpeeds.Rank).Select(SdBusSpeeds.Key)]);
            return option;
        }
    }

    private sealed record CardSession(string Name, bool NoIommu, bool Bind, bool Poll, bool Iommufd, bool AllowWrite = false,
        SdBlockCountMode BlockCount = SdBlockCountMode.Auto, SdBusSpeed MaxSpeed = SdBusSpeed.Sdr104, int Retries = SdCardOptions.DefaultRetries);

    /// <summary>
    /// Opens the controller (binding it first with --bind), wires its interrupt and runs
    /// <see cref="RunCard"/>; SIGINT, SIGTERM and SIGHUP are taken for the whole time. On the way out the
    /// controller is reset (in <see cref="RunCard"/>), then the interrupt and the device are closed and a
    /// --bind is undone.
    /// </summary>
    private static int WithCard(CardSession options, Func<CardContext, int> body, Func<string?>? onFailure = null)
    {
        var name = options.Name;
        using var signals = new SignalScope();
        ControllerSession? session = null;
        VfioInterrupt? irq = null;
        try
        {
            session = ControllerSession.Open(name, options.NoIommu, options.Bind, useIommufd: options.Iommufd, busMaster: true);
            signals.Token.ThrowIfCancellationRequested();
            irq = options.Poll ? null : session.EnableInterrupt();
            var host = new SdhciHost<MmioBus>(session.Registers, irq is null ? new PollingInterrupt() : new VfioSdhciInterrupt(irq), new SdhciHostOptions { AllowWrite = options.AllowWrite });
            var card = new SdCard<MmioBus>(host, new SdCardOptions { BlockCountMode = options.BlockCount, MaxBusSpeed = options.MaxSpeed, Retries = options.Retries });
            var opened = session;
            return RunCard(name, card, length => VfioDmaMemory.Allocate(opened, length), signals, options.Bind, body, onFailure);
        }
        catch (Exception e)
        {
            // Opening failed: no card command ran, but a file made for the output is still removed.
            var note = onFailure?.Invoke();
            if (e is OperationCanceledException && signals.Stopped)
                return Interrupted(name, signals, givenBack: options.Bind, note);
            return CommonOptions.Fail(name, e, note);
        }
        finally
        {
            irq?.Dispose();
            session?.Dispose();
        }
    }

    /// <summary>
    /// Brings the card up and runs <paramref name="body"/>; every failure becomes one line and its exit
    /// code, after <paramref name="onFailure"/> cleaned up (its note is appended), and a signal becomes
    /// 128 + its number. Whatever happened, the controller is reset before this returns.
    /// </summary>
    internal static int RunCard(string name, ISdCard card, Func<int, IOwnedDmaMemory>? allocateDma, SignalScope signals, bool givesBack,
        Func<CardContext, int> body, Func<string?>? onFailure = null)
    {
        try
        {
            var start = Stopwatch.GetTimestamp();
            var info = card.Initialize();
            var bringUp = Stopwatch.GetElapsedTime(start);
            signals.Token.ThrowIfCancellationRequested();
            return body(new CardContext(name, card, info, bringUp, allocateDma, signals.Token));
        }
        catch (Exception e)
        {
            var note = onFailure?.Invoke();
            if (e is OperationCanceledException && signals.Stopped)
                return Interrupted(name, signals, givesBack, note);
            return CommonOptions.Fail(name, e, note);
        }
        finally
        {
            // Leave the controller quiet: no bus power, no clock, no pending interrupt.
            try
            {
                card.Host.Reset(SdhciReset.All);
            }
            catch (SdhciException)
            {
            }
        }
    }

    private static int Interrupted(string name, SignalScope signals, bool givenBack, string? note) =>
        CommonOptions.Interrupted(name, signals, $"the controller is reset{(givenBack ? " and given back to its driver" : "")}{note}");

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

    internal static string Describe(SdCardInfo info, ISdhciHost? host = null)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Card: {info.Type}, RCA 0x{info.Rca:x4}, OCR 0x{info.Ocr:x8}, {info.BusWidth}-bit bus at {info.ClockHz / 1e6:0.###} MHz");
        text.AppendLine(CultureInfo.InvariantCulture, $"Capacity: {info.CapacityBytes} bytes ({info.BlockCount} blocks of 512), {(info.BlockAddressing ? "block" : "byte")} addressing");
        var cid = info.Cid;
        text.AppendLine(CultureInfo.InvariantCulture, $"CID {cid.RawHex}: manufacturer 0x{cid.ManufacturerId:x2}, OEM '{cid.OemId}', product '{cid.ProductName}', revision {cid.HardwareRevision}.{cid.FirmwareRevision}, serial 0x{cid.SerialNumber:x8}, made {cid.ManufacturingYear}-{cid.ManufacturingMonth:00}");
        text.AppendLine(CultureInfo.InvariantCulture, $"CSD {info.Csd.RawHex}: version {info.Csd.Version}, max transfer rate {info.Csd.MaxTransferRateHz / 1e6:0.###} MHz, read block length {info.Csd.ReadBlockLength}");
        text.AppendLine(CultureInfo.InvariantCulture, $"SCR {info.Scr.RawHex}: SD spec {info.Scr.SdSpec}, bus widths {(info.Scr.Supports1BitBus ? "1" : "")}{(info.Scr.Supports4BitBus ? " 4" : "")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Multi-block: {(info.BlockCountMode == SdBlockCountMode.Cmd23 ? "CMD23 (SET_BLOCK_COUNT) before each command" : "auto-CMD12 after the last block")}, CMD23 {(info.Scr.SupportsCmd23 ? "listed" : "not listed")} in the SCR");
        text.AppendLine(CultureInfo.InvariantCulture, $"Bus speed: {info.BusSpeedText}");
        if (info.UhsNote is not null)
            text.AppendLine(CultureInfo.InvariantCulture, $"UHS-I: {info.UhsNote}");
        if (host is not null)
            text.AppendLine(CultureInfo.InvariantCulture, $"DMA: {DescribeDma(host)}");
        return text.ToString();
    }

    /// <summary>What --mode adma2 will use on <paramref name="host"/>, and why.</summary>
    internal static string DescribeDma(ISdhciHost host)
    {
        if (!host.Capabilities.Adma2)
            return "no ADMA2 (Capabilities bit 19 is clear)" + (host.Capabilities.Sdma ? "; SDMA with 32-bit addresses" : "");
        var why = host.Adma2Format switch
        {
            SdhciAdma2Format.Address64 => "Capabilities bit 28, 64-bit system bus; 96-bit descriptors",
            SdhciAdma2Format.Address64V4 => "version 4 mode with 64-bit addressing, Capabilities bit 27; 128-bit descriptors",
            _ when !host.Options.Allow64BitDma => "64-bit DMA turned off",
            _ => "no 64-bit system bus, Capabilities bit 28 is clear; DMA memory must lie below 4 GiB",
        };
        return $"ADMA2 with {SdhciHost.Describe(host.Adma2Format)} addresses ({why})";
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

    /// <summary>A pinned buffer and its mapping for the controller: unmapped, then freed, on dispose.</summary>
    private sealed class VfioDmaMemory : IOwnedDmaMemory
    {
        private readonly DmaBuffer _buffer;
        private readonly DmaMapping _mapping;

        private VfioDmaMemory(DmaBuffer buffer, DmaMapping mapping)
        {
            _buffer = buffer;
            _mapping = mapping;
        }

        public ulong DeviceAddress => _mapping.Iova;

        public Span<byte> Bytes => _mapping.Buffer.Span;

        public static VfioDmaMemory Allocate(ControllerSession session, int length)
        {
            var space = RequireDma(session);
            // No IOMMU: the controller gets physical addresses, which only a huge page keeps contiguous and in place.
            var buffer = DmaBuffer.Allocate(length, hugePages: space is PhysicalDmaSpace);
            try
            {
                return new VfioDmaMemory(buffer, space.MapDma(buffer));
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            _mapping.Dispose();
            _buffer.Dispose();
        }
    }
}
