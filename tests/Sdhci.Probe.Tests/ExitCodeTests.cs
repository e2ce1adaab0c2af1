using System.Runtime.InteropServices;
using Sdhci.Probe.Commands;
using Sdhci.Probe.Sdhci;
using Vfio.Platform;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>Signals exit 128 + their number; every kind of failure becomes one line and the exit code ExitCodes names.</summary>
public class ExitCodeTests
{
    [Theory]
    [InlineData(PosixSignal.SIGHUP, 129)]
    [InlineData(PosixSignal.SIGINT, 130)]
    [InlineData(PosixSignal.SIGTERM, 143)]
    public void A_signal_exits_128_plus_its_number(PosixSignal signal, int expected)
    {
        using var scope = new SignalScope(register: false);
        scope.Raise(signal);

        Assert.Equal(expected, ExitCodes.ForSignal(signal));
        Assert.Equal(expected, scope.ExitCode);
        Assert.True(scope.Token.IsCancellationRequested);
        Assert.Contains($"exit {expected}", scope.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_constants_are_the_shells_numbers()
    {
        Assert.Equal(129, ExitCodes.HangUp);
        Assert.Equal(130, ExitCodes.Interrupted);
        Assert.Equal(143, ExitCodes.Terminated);
    }

    [Fact]
    public void A_scope_takes_the_real_signals_and_lets_them_go()
    {
        using (var scope = new SignalScope())
            Assert.False(scope.Stopped);
        using var again = new SignalScope();                    // registering twice in a row works: the first let go
        Assert.Null(again.Signal);
    }

    [Fact]
    public void Failures_map_to_exit_codes_and_one_line()
    {
        Assert.Equal((ExitCodes.Failed, "cannot create /x: Permission denied"), CommonOptions.Describe(new IOException("cannot create /x: Permission denied\n   at Foo()")));
        Assert.Equal(ExitCodes.Failed, CommonOptions.Describe(new UnauthorizedAccessException("Access to the path '/root/x' is denied.")).Code);
        Assert.Equal((ExitCodes.Usage, "--count must be positive"), CommonOptions.Describe(new ArgumentException("--count must be positive")));
        Assert.Equal((ExitCodes.Usage, "Blocks 5 to 9 lie beyond"), CommonOptions.Describe(new ArgumentOutOfRangeException("lba", 5L, "Blocks 5 to 9 lie beyond")));
        Assert.Equal(ExitCodes.Failed, CommonOptions.Describe(new SdhciException(SdhciError.DataCrc, "CMD18 (READ_MULTIPLE_BLOCK): the data failed its CRC check")).Code);
        Assert.Equal(ExitCodes.Failed, CommonOptions.Describe(new VfioException("open", "ff170000.mmc", 16, "Busy.")).Code);
        var unexpected = CommonOptions.Describe(new InvalidOperationException("boom\nsecond line"));
        Assert.Equal((ExitCodes.Failed, "unexpected InvalidOperationException: boom"), unexpected);
        Assert.Equal("sdhci-probe: ff170000.mmc: CMD18: x", CommonOptions.Line("ff170000.mmc", "CMD18: x"));
        Assert.Equal("sdhci-probe: x", CommonOptions.Line(null, "x"));
    }

    [Fact]
    public void Run_turns_any_exception_into_an_exit_code()
    {
        Assert.Equal(ExitCodes.Usage, CommonOptions.Run("dev", () => throw new ArgumentException("bad")));
        Assert.Equal(ExitCodes.Failed, CommonOptions.Run("dev", () => throw new IOException("disk full")));
        Assert.Equal(ExitCodes.Failed, CommonOptions.Run("dev", () => throw new FormatException()));
        Assert.Equal(ExitCodes.Ok, CommonOptions.Run("dev", () => ExitCodes.Ok));
    }

    [Fact]
    public void No_command_returns_a_literal_exit_code()
    {
        var commands = Path.Combine(Repository(), "src", "Sdhci.Probe", "Commands");
        var literal = new System.Text.RegularExpressions.Regex(@"\breturn\s+-?\d+\s*;");

        var offenders = Directory.GetFiles(commands, "*.cs").SelectMany(f => File.ReadLines(f).Where(l => literal.IsMatch(l)).Select(l => $"{Path.GetFileName(f)}: {l.Trim()}"));

        Assert.Empty(offenders);
    }

    private static string Repository()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "global.json")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("The repository's root (global.json) is not above the test's directory.");
    }
}
