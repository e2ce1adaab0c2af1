using System.CommandLine;
using System.Text.Json;
using Sdhci.Probe.Sdhci;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Discovery;

namespace Sdhci.Probe.Commands;

/// <summary>Options more than one command takes, and the error reporting they share.</summary>
internal static class CommonOptions
{
    public static Argument<string> Device() => new("device") { Description = "The controller's sysfs name: ff170000.mmc (platform) or 0000:00:01.0 (PCI). 'sdhci-probe list' shows them." };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON for machines instead of text." };

    public static Option<bool> NoIommu() => new("--noiommu") { Description = "Accept a no-IOMMU group: the device is not isolated and can DMA anywhere. Unsafe; needed on SoCs whose SMMU the kernel does not drive." };

    public static Option<bool> BindForCommand() => new("--bind") { Description = "Bind the controller to VFIO for this command only, and give it back to its driver after." };

    public static Option<string> SysfsRoot() => new("--sysfs") { Description = "Where sysfs is mounted (for tests).", DefaultValueFactory = _ => HostDevice.DefaultSysfsRoot, Hidden = true };

    /// <summary>Runs a command body; any failure becomes one line on stderr and its exit code (see <see cref="Fail"/>).</summary>
    public static int Run(Func<int> body) => Run(null, body);

    /// <summary>Runs a command body about <paramref name="device"/>; any failure becomes one line
    /// <c>sdhci-probe: DEVICE: step: reason</c> on stderr and its exit code, never a stack trace.</summary>
    public static int Run(string? device, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            return Fail(device, e);
        }
    }

    /// <summary>
    /// Prints <paramref name="error"/> as one line and returns its exit code: usage errors
    /// (<see cref="ArgumentException"/>, from parsing and validation) exit 2; VFIO, system-call, file
    /// (<see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>) and card
    /// (<see cref="SdhciException"/>) failures exit 1; so does anything unforeseen, named by its type.
    /// </summary>
    /// <param name="device">The controller, or null before one is known.</param>
    /// <param name="error">What went wrong.</param>
    /// <param name="note">What was cleaned up because of it ("; removed the partial ..."), appended.</param>
    public static int Fail(string? device, Exception error, string? note = null)
    {
        var (code, reason) = Describe(error);
        Console.Error.WriteLine(Line(device, string.IsNullOrEmpty(note) ? reason : reason.TrimEnd('.') + note));
        return code;
    }

    /// <summary>The exit code and the one-line reason for <paramref name="error"/>.</summary>
    internal static (int Code, string Reason) Describe(Exception error) => error switch
    {
        // Someone uses the device (a mounted card, a process holding its group): not ready, nothing changed.
        VfioDeviceBusyException e => (ExitCodes.NotReady, OneLine(e.Message)),
        // SystemCallException is an IOException: it must be matched first. Its message names the call and its target.
        SystemCallException e => (ExitCodes.Failed, OneLine(e.Message)),
        SdhciException e => (ExitCodes.Failed, OneLine(e.Message)),
        IOException e => (ExitCodes.Failed, OneLine(e.Message)),
        UnauthorizedAccessException e => (ExitCodes.Failed, OneLine(e.Message)),
        ArgumentException e => (ExitCodes.Usage, OneLine(WithoutParameter(e))),
        _ => (ExitCodes.Failed, $"unexpected {error.GetType().Name}: {OneLine(error.Message)}"),
    };

    /// <summary>Says a signal stopped the command and what was cleaned up; returns 128 + the signal's number.</summary>
    /// <param name="device">The controller.</param>
    /// <param name="signals">The scope that caught the signal.</param>
    /// <param name="cleanedUp">"the controller is reset ...": what the user may rely on now.</param>
    public static int Interrupted(string? device, SignalScope signals, string cleanedUp)
    {
        ArgumentNullException.ThrowIfNull(signals);
        Console.Error.WriteLine(Line(device, $"interrupted; {cleanedUp} ({signals.Describe()})"));
        return signals.ExitCode;
    }

    /// <summary><c>sdhci-probe: DEVICE: REASON</c>, without the device when there is none.</summary>
    internal static string Line(string? device, string reason) =>
        string.IsNullOrEmpty(device) ? $"sdhci-probe: {reason}" : $"sdhci-probe: {device}: {reason}";

    /// <summary>Parses and runs the command line: a parse error prints its messages and exits 2
    /// (<see cref="ExitCodes.Usage"/>), not System.CommandLine's 1, which scripts would read as a failed device.</summary>
    public static int Invoke(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (parse.Errors.Count == 0)
            return parse.Invoke();
        foreach (var error in parse.Errors)
            Console.Error.WriteLine(Line(null, error.Message));
        Console.Error.WriteLine("sdhci-probe: see 'sdhci-probe --help' (or 'sdhci-probe COMMAND --help')");
        return ExitCodes.Usage;
    }

    public static void WriteJson<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        Console.WriteLine(JsonSerializer.Serialize(value, type));

    private static string OneLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return (end < 0 ? text : text[..end]).TrimEnd();
    }

    /// <summary>An ArgumentException's message without the " (Parameter 'x')" .NET appends, which tells a user nothing.</summary>
    private static string WithoutParameter(ArgumentException error)
    {
        var text = OneLine(error.Message);
        var suffix = $" (Parameter '{error.ParamName}')";
        return error.ParamName is not null && text.EndsWith(suffix, StringComparison.Ordinal) ? text[..^suffix.Length] : text;
    }
}
