using System.Globalization;
using System.Text;
using System.Text.Json;
using Vfio.Platform.Mmio;
using R = Sdhci.Probe.Sdhci.SdhciRegisters;

namespace Sdhci.Probe.Sdhci;

/// <summary>
/// Reads a controller's registers and prints them three ways: in the Linux kernel's
/// <c>sdhci_dumpregs()</c> layout (to hold next to a kernel log), decoded field by field, and as JSON.
/// The buffer data port (0x20) is never read: a read consumes card data.
/// </summary>
/// <example>
/// <code>
/// var snapshot = SdhciDump.Read(io, SdhciDumpOptions.Arasan);
/// var health = SdhciHealth.Assess(snapshot);
/// Console.Write(SdhciDump.FormatKernel(snapshot, hostName: "mmc0"));
/// Console.Write(SdhciDump.FormatDecoded(snapshot));
/// Console.Write(SdhciDump.ToJson(SdhciDump.Decode(snapshot)));
/// </code>
/// </example>
public static class SdhciDump
{
    // The kernel's framing lines, character for character (drivers/mmc/host/sdhci.c, cqhci-core.c).
    private const string KernelHeader = "============ SDHCI REGISTER DUMP ===========";
    private const string KernelFooter = "============================================";
    private const string CqhciHeader = "============ CQHCI REGISTER DUMP ===========";
    private const string MoreHeader = "============ SDHCI 3.00 REGISTERS NOT IN THE KERNEL DUMP ===========";
    private const string ArasanHeader = "============ ARASAN VENDOR REGISTERS ===========";

    /// <summary>
    /// Reads every readable standard register once, in spec order, then the vendor registers
    /// <paramref name="options"/> asks for that fit the window. Write-only registers and the data
    /// port are skipped.
    /// </summary>
    /// <param name="io">The controller's register window (a bound block's <see cref="RegisterBlock{TBlock, TBus}.Bus"/>, or a model).</param>
    /// <param name="options">Vendor registers to include; <see cref="SdhciDumpOptions.Standard"/> when null.</param>
    /// <returns>The values.</returns>
    /// <exception cref="ArgumentException">The window is smaller than the 0x100-byte standard block.</exception>
    public static SdhciSnapshot Read(IRegisterBus io, SdhciDumpOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(io);
        options ??= SdhciDumpOptions.Standard;
        if (io.Length < SdhciBlock.Size)
            throw new ArgumentException(
                $"The register window is 0x{io.Length:x} bytes; an SD host controller has 0x{SdhciBlock.Size:x}. Is this the right region?",
                nameof(io));

        var registers = R.All.AsEnumerable();
        if (options.ArasanVendorRegisters)
            registers = registers.Concat(ArasanRegisters.Vendor);
        if (options.ArasanCqe)
            registers = registers.Concat(ArasanRegisters.Cqe);

        var values = registers
            .Where(r => r.IsReadable && r.Offset + r.Width <= io.Length)
            .Select(r => new SdhciRegisterValue(r, io.Read(r)))
            .ToList();
        return new SdhciSnapshot(io.Length, values);
    }

    /// <summary>
    /// The dump in the layout and names of the kernel's <c>sdhci_dumpregs()</c> (Linux 6.12), line for
    /// line, followed by the spec 3.00 registers the kernel leaves out and any vendor registers read.
    /// </summary>
    /// <param name="snapshot">The registers.</param>
    /// <param name="hostName">
    /// When given (<c>"mmc0"</c>), every line starts with <c>"mmc0: sdhci: "</c> as in a kernel log.
    /// </param>
    /// <returns>The text, one line per <c>\n</c>.</returns>
    public static string FormatKernel(SdhciSnapshot snapshot, string? hostName = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var sdhci = new KernelWriter(hostName is null ? "" : hostName + ": sdhci: ");
        var s = snapshot;
        var kernelPrintsAdma = KernelPrintsAdma(s, out var adma64);

        sdhci.Line(KernelHeader);
        sdhci.Pair("Sys addr:  ", s[R.SdmaSystemAddress], "Version:  ", s[R.HostControllerVersion]);
        sdhci.Pair("Blk size:  ", s[R.BlockSize], "Blk cnt:  ", s[R.BlockCount]);
        sdhci.Pair("Argument:  ", s[R.Argument], "Trn mode: ", s[R.TransferMode]);
        sdhci.Pair("Present:   ", s[R.PresentState], "Host ctl: ", s[R.HostControl1]);
        sdhci.Pair("Power:     ", s[R.PowerControl], "Blk gap:  ", s[R.BlockGapControl]);
        sdhci.Pair("Wake-up:   ", s[R.WakeupControl], "Clock:    ", s[R.ClockControl]);
        sdhci.Pair("Timeout:   ", s[R.TimeoutControl], "Int stat: ", Pair32(s, R.NormalInterruptStatus, R.ErrorInterruptStatus));
        sdhci.Pair("Int enab:  ", Pair32(s, R.NormalInterruptStatusEnable, R.ErrorInterruptStatusEnable),
            "Sig enab: ", Pair32(s, R.NormalInterruptSignalEnable, R.ErrorInterruptSignalEnable));
        sdhci.Pair("ACmd stat: ", s[R.AutoCmdErrorStatus], "Slot int: ", s[R.SlotInterruptStatus]);
        sdhci.Pair("Caps:      ", (uint)s[R.Capabilities], "Caps_1:   ", s[R.Capabilities] >> 32);
        sdhci.Pair("Cmd:       ", s[R.Command], "Max curr: ", s[R.MaximumCurrent]);
        sdhci.Pair("Resp[0]:   ", s[R.Response0], "Resp[1]:  ", s[R.Response1]);
        sdhci.Pair("Resp[2]:   ", s[R.Response2], "Resp[3]:  ", s[R.Response3]);
        sdhci.Single("Host ctl2: ", s[R.HostControl2]);
        if (kernelPrintsAdma)
        {
            var address = s[R.AdmaSystemAddress];
            var pointer = adma64
                ? Hex8(address >> 32) + ((uint)address).ToString("x8", CultureInfo.InvariantCulture)
                : Hex8((uint)address);
            sdhci.Line("ADMA Err:  " + Hex8(s[R.AdmaErrorStatus]) + " | ADMA Ptr: " + pointer);
        }

        sdhci.Line(KernelFooter);

        // What spec 3.00 has and sdhci_dumpregs() does not print, so the text holds every register.
        sdhci.Line(MoreHeader);
        if (!kernelPrintsAdma)
        {
            sdhci.Row(R.AdmaErrorStatus, s[R.AdmaErrorStatus]);
            sdhci.Row(R.AdmaSystemAddress, s[R.AdmaSystemAddress]);
        }

        foreach (var register in R.PresetValues.Append(R.SharedBusControl))
            sdhci.Row(register, s[register]);

        sdhci.Line(KernelFooter);

        if (ArasanRegisters.Vendor.Any(s.Contains))
        {
            sdhci.Line(ArasanHeader);
            foreach (var register in ArasanRegisters.Vendor.Where(s.Contains))
                sdhci.Row(register, s[register]);
            sdhci.Line(KernelFooter);
        }

        var text = new StringBuilder(sdhci.ToString());
        if (ArasanRegisters.Cqe.All(s.Contains))
            text.Append(FormatCqhci(s, hostName));
        return text.ToString();
    }

    /// <summary>
    /// Whether <c>sdhci_dumpregs()</c> prints its ADMA line for this controller, and in 64-bit form:
    /// the kernel uses ADMA from spec 2.00 when ADMA2 is offered, and 64-bit DMA when the capabilities
    /// say so (bit 27 instead of bit 28 in 4.10's version 4 mode).
    /// </summary>
    private static bool KernelPrintsAdma(SdhciSnapshot s, out bool adma64)
    {
        var caps = s.Capabilities;
        var v4Mode = s.Version.SpecVersion >= SdhciSpecVersion.Version410
            && R.HostControl2Fields.HostVersion4Enable.IsSet(s[R.HostControl2]);
        adma64 = v4Mode ? caps.SystemBus64BitV4 : caps.SystemBus64Bit;
        return s.Version.SpecVersion >= SdhciSpecVersion.Version200 && caps.Adma2;
    }

    private static string FormatCqhci(SdhciSnapshot s, string? hostName)
    {
        var cqhci = new KernelWriter(hostName is null ? "" : hostName + ": cqhci: ");
        cqhci.Line(CqhciHeader);
        cqhci.Pair("Caps:      ", s[ArasanRegisters.CqCapabilities], "Version:  ", s[ArasanRegisters.CqVersion]);
        cqhci.Pair("Config:    ", s[ArasanRegisters.CqConfiguration], "Control:  ", s[ArasanRegisters.CqControl]);
        cqhci.Pair("Int stat:  ", s[ArasanRegisters.CqInterruptStatus], "Int enab: ", s[ArasanRegisters.CqInterruptStatusEnable]);
        cqhci.Pair("Int sig:   ", s[ArasanRegisters.CqInterruptSignalEnable], "Int Coal: ", s[ArasanRegisters.CqInterruptCoalescing]);
        cqhci.Pair("TDL base:  ", s[ArasanRegisters.CqTaskListBase], "TDL up32: ", s[ArasanRegisters.CqTaskListBaseUpper]);
        cqhci.Pair("Doorbell:  ", s[ArasanRegisters.CqTaskDoorbell], "TCN:      ", s[ArasanRegisters.CqTaskCompletion]);
        cqhci.Pair("Dev queue: ", s[ArasanRegisters.CqDeviceQueueStatus], "Dev Pend: ", s[ArasanRegisters.CqDevicePendingTasks]);
        cqhci.Pair("Task clr:  ", s[ArasanRegisters.CqTaskClear], "SSC1:     ", s[ArasanRegisters.CqSendStatusConfig1]);
        cqhci.Pair("SSC2:      ", s[ArasanRegisters.CqSendStatusConfig2], "DCMD rsp: ", s[ArasanRegisters.CqDirectCommandResponse]);
        cqhci.Pair("RED mask:  ", s[ArasanRegisters.CqResponseErrorMask], "TERRI:    ", s[ArasanRegisters.CqTaskErrorInfo]);
        cqhci.Pair("Resp idx:  ", s[ArasanRegisters.CqResponseIndex], "Resp arg: ", s[ArasanRegisters.CqResponseArgument]);
        cqhci.Line(KernelFooter);
        return cqhci.ToString();
    }

    /// <summary>Decodes every modelled register of <paramref name="snapshot"/>: values, named fields and derived quantities.</summary>
    /// <param name="snapshot">The registers.</param>
    /// <returns>The document <c>--json</c> writes and <c>--decode</c> prints.</returns>
    public static SdhciDumpDocument Decode(SdhciSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var registers = new List<DecodedRegister>();
        foreach (var register in R.All.Concat(ArasanRegisters.Vendor).Concat(ArasanRegisters.Cqe))
        {
            if (snapshot.TryGetValue(register, out var value))
            {
                var fields = register.Fields
                    .Select(f => new DecodedField(f.Name, f.Shift, f.Width, f.Extract(value), f.Describe(f.Extract(value), snapshot.Context)))
                    .Concat(Derived(register, value, snapshot))
                    .ToList();
                registers.Add(new DecodedRegister(register.Block, register.Offset, register.Width, register.Name,
                    register.KernelName, register.Access, value, fields, null));
            }
            else if (register.Block == SdhciRegisterBlock.Standard)
            {
                // Only standard registers are listed when unread: vendor ones were not asked for.
                var note = register.Access switch
                {
                    SdhciRegisterAccess.DataPort => "not read: a read pops data from the card's FIFO",
                    SdhciRegisterAccess.WriteOnly => "not read: write-only",
                    _ => "not read",
                };
                registers.Add(new DecodedRegister(register.Block, register.Offset, register.Width, register.Name,
                    register.KernelName, register.Access, null, [], note));
            }
        }

        return new SdhciDumpDocument(snapshot.Version.SpecVersionText, snapshot.Version.VendorVersion,
            snapshot.RegionLength, SdhciHealth.Assess(snapshot), registers);
    }

    /// <summary>Quantities that need more than one register: the SD clock a divider gives, the divider itself.</summary>
    private static IEnumerable<DecodedField> Derived(SdhciRegister register, ulong value, SdhciSnapshot s)
    {
        var version = s.Version.SpecVersion;
        var caps = s.Capabilities;
        if (register == R.ClockControl)
        {
            var clock = (ushort)value;
            var divider = SdhciClock.Divider(clock, version);
            var programmable = SdhciClock.IsProgrammableMode(clock, version, caps.ClockMultiplier);
            yield return new DecodedField("SDCLK Divider N", null, null, (ulong)divider, programmable
                ? Invariant($"{divider}: base x {caps.ClockMultiplier} / {divider + 1} (programmable clock mode)")
                : divider == 0 ? "0: base clock undivided" : Invariant($"{divider}: base / {2 * divider}"));
            yield return SdClock(s, clock, R.ClockControlFields.SdClockEnable.IsSet(clock)
                ? "SD Clock Enable is set"
                : "if enabled: SD Clock Enable is clear");
        }
        else if (R.PresetValues.Contains(register))
        {
            // A preset holds the divider in bits 9:0 and the generator choice in bit 10; the clock
            // control register has the same divider split as 15:8 and 7:6, and the choice in bit 5.
            var divider = (int)R.PresetValueFields.SdclkFrequencySelectValue.Extract(value);
            ulong clock = SdhciClock.EncodeDivider(divider);
            if (R.PresetValueFields.ClockGeneratorSelectValue.IsSet(value))
                clock = R.ClockControlFields.ClockGeneratorSelect.Insert(clock, 1);
            yield return SdClock(s, (ushort)clock, "when this preset is used");
        }
    }

    private static DecodedField SdClock(SdhciSnapshot s, ushort clockControl, string condition)
    {
        const string name = "SD Clock Frequency";
        if (s.Capabilities.BaseClockHz == 0)
            return new DecodedField(name, null, null, 0, "unknown: the capabilities give no base clock (the platform knows it)");
        var hz = SdhciClock.SdClockHz(s.Capabilities.BaseClockHz, clockControl, s.Version.SpecVersion, s.Capabilities.ClockMultiplier);
        return new DecodedField(name, null, null, (ulong)hz,
            Invariant($"{R.FormatHz(hz)} ({condition}; base clock {R.FormatHz(s.Capabilities.BaseClockHz)})"));
    }

    /// <summary>
    /// The <c>--decode</c> text: the controller and its health, then every register with each field
    /// named. Interrupt registers list the bits that are set by their <see cref="SdhciInterrupt"/> names.
    /// </summary>
    /// <param name="snapshot">The registers.</param>
    /// <returns>The text, one line per <c>\n</c>.</returns>
    public static string FormatDecoded(SdhciSnapshot snapshot) => FormatDecoded(Decode(snapshot));

    /// <summary>The <c>--decode</c> text of an already decoded dump (see <see cref="FormatDecoded(SdhciSnapshot)"/>).</summary>
    /// <param name="document">The decoded dump.</param>
    /// <returns>The text.</returns>
    public static string FormatDecoded(SdhciDumpDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"SD Host Controller: specification {document.SpecVersion}, vendor version 0x{document.VendorVersion:x2}, register window 0x{document.RegionLength:x} bytes\n");
        text.Append(CultureInfo.InvariantCulture, $"Health: {document.Health.Status}: {document.Health.Summary}\n");
        if (document.Health.Advice is { } advice)
            text.Append(CultureInfo.InvariantCulture, $"What to do: {advice}\n");

        foreach (var register in document.Registers)
        {
            text.Append('\n');
            var title = Invariant($"0x{register.Offset:x3} {register.Name} ({register.Width * 8}-bit)");
            if (register.Value is null)
            {
                text.Append(CultureInfo.InvariantCulture, $"{title}: {register.Note}\n");
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"{title} = {register.Hex}\n");
            var descriptor = Descriptor(register);
            if (descriptor is { ListSetFlags: true })
            {
                var set = register.Fields.Where(f => f.Value != 0).Select(f => f.Name).ToList();
                text.Append(CultureInfo.InvariantCulture, $"      set: {(set.Count == 0 ? "none" : string.Join(", ", set))}\n");
                continue;
            }

            foreach (var field in register.Fields)
                text.Append(CultureInfo.InvariantCulture, $"      {field.Bits,-6} {field.Name,-45} {field.Meaning}\n");
        }

        return text.ToString();
    }

    private static SdhciRegister? Descriptor(DecodedRegister register) =>
        R.All.Concat(ArasanRegisters.Vendor).Concat(ArasanRegisters.Cqe)
            .FirstOrDefault(r => r.Offset == register.Offset && r.Block == register.Block);

    /// <summary>The <c>--json</c> form of a decoded dump (indented, camelCase, enums as names).</summary>
    /// <param name="document">The decoded dump.</param>
    /// <returns>JSON text.</returns>
    public static string ToJson(SdhciDumpDocument document) =>
        JsonSerializer.Serialize(document, SdhciJsonContext.Default.SdhciDumpDocument);

    /// <summary>Reads back what <see cref="ToJson"/> wrote.</summary>
    /// <param name="json">JSON text.</param>
    /// <returns>The decoded dump.</returns>
    /// <exception cref="JsonException">The text is not a dump document.</exception>
    public static SdhciDumpDocument FromJson(string json) =>
        JsonSerializer.Deserialize(json, SdhciJsonContext.Default.SdhciDumpDocument)
        ?? throw new JsonException("The JSON text holds null, not a dump document.");

    private static ulong Pair32(SdhciSnapshot s, SdhciRegister normal, SdhciRegister error) => s[normal] | (s[error] << 16);

    private static string Hex8(ulong value) => "0x" + value.ToString("x8", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes lines the way the kernel's SDHCI_DUMP does: a prefix, then <c>label 0x%08x</c> pairs.</summary>
    private sealed class KernelWriter(string prefix)
    {
        private readonly StringBuilder _text = new();

        public void Line(string line) => _text.Append(prefix).Append(line).Append('\n');

        public void Pair(string left, ulong leftValue, string right, ulong rightValue) =>
            Line(left + Hex8(leftValue) + " | " + right + Hex8(rightValue));

        public void Single(string label, ulong value) => Line(label + Hex8(value));

        /// <summary>A register the kernel has no line for: offset, name and value, wide enough for 64-bit registers.</summary>
        public void Row(SdhciRegister register, ulong value) =>
            Line(Invariant($"0x{register.Offset:x3} {register.Name + ":",-42} ")
                 + (register.Width == 8 ? "0x" + value.ToString("x16", CultureInfo.InvariantCulture) : Hex8(value)));

        public override string ToString() => _text.ToString();
    }
}
