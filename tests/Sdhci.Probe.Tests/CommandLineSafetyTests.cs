using System.Runtime.InteropServices;
using Sdhci.Probe.Commands;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>
/// The command line is checked before any device is touched: every refusal here exits 2 although the device
/// named does not exist (opening it would exit 1). Files are opened first, and one made for a command that
/// then fails is removed. Every failure is one line and an exit code from <see cref="ExitCodes"/>.
/// </summary>
[Collection(nameof(ConsoleUsers))]
public class CommandLineSafetyTests
{
    private const string Device = CardCommandKit.NoDevice;
    private readonly string _directory = CardCommandKit.TempDirectory();

    [Theory]
    [InlineData("--lba=-1")]
    [InlineData("--count=0")]
    [InlineData("--count=-5")]
    [InlineData("--count=65")]                                  // a hex dump of more than 32 KiB
    [InlineData("--count=100", "--json")]                       // base64 of more than 32 KiB
    [InlineData("--lba=18014398509481983", "--out=OUT")]        // (lba + 1) * 512 = 2^63: overflows
    [InlineData("--lba=9223372036854775807", "--out=OUT")]      // lba + count overflows
    [InlineData("--count=abc")]                                 // a parse error
    [InlineData("--mode=dma")]
    public void Bad_read_ranges_are_usage_errors_before_the_device_is_opened(params string[] options)
    {
        var output = Path.Combine(_directory, "out.bin");
        var args = new[] { "read", Device }.Concat(options.Select(o => o.Replace("OUT", output, StringComparison.Ordinal))).ToArray();

        Assert.Equal(ExitCodes.Usage, CardCommandKit.Run(args));
        Assert.False(File.Exists(output));                      // refused before the file was made
    }

    [Fact]
    public void A_missing_device_argument_is_a_usage_error() => Assert.Equal(ExitCodes.Usage, CardCommandKit.Run("read"));

    [Fact]
    public void The_out_file_is_made_before_the_device_is_opened_and_removed_when_that_fails()
    {
        var output = Path.Combine(_directory, "made-then-removed.bin");

        var (code, errors) = CardCommandKit.RunCaptured("read", Device, "--count", "4096", "--out", output);

        Assert.Equal(ExitCodes.Failed, code);                   // no such controller
        Assert.Contains($"the partial {output} (0 bytes) was removed", errors, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));  // one line, no stack trace
        Assert.StartsWith($"sdhci-probe: {Device}: ", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void An_out_file_that_cannot_be_made_fails_before_the_device_is_looked_for()
    {
        var output = Path.Combine(_directory, "no-such-directory", "out.bin");

        var (code, errors) = CardCommandKit.RunCaptured("read", Device, "--count", "4096", "--out", output);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains($"--out {output}: cannot create it", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("controller", errors, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void An_existing_out_file_is_refused_without_force_before_the_device_is_opened()
    {
        var output = Path.Combine(_directory, "exists.bin");
        File.WriteAllText(output, "mine");

        Assert.Equal(ExitCodes.Usage, CardCommandKit.Run("read", Device, "--out", output));
        Assert.Equal("mine", File.ReadAllText(output));
    }

    [Fact]
    public void A_symlinked_out_file_is_refused_even_with_force()
    {
        var target = Path.Combine(_directory, "target");
        File.WriteAllText(target, "mine");
        var link = Path.Combine(_directory, "link");
        File.CreateSymbolicLink(link, target);

        Assert.Equal(ExitCodes.Usage, CardCommandKit.Run("read", Device, "--out", link, "--force"));
        Assert.Equal("mine", File.ReadAllText(target));
    }

    [Fact]
    public void Force_replaces_only_after_the_checks_then_the_device_failure_removes_the_new_file()
    {
        var output = Path.Combine(_directory, "old.bin");
        File.WriteAllText(output, "old");

        Assert.Equal(ExitCodes.Failed, CardCommandKit.Run("read", Device, "--out", output, "--force"));
        Assert.False(File.Exists(output));                      // replaced by our file, which the failure removed
    }

    [Theory]
    [InlineData(700, null)]                                     // not whole blocks
    [InlineData(1024, "3")]                                     // 2 blocks, --count 3
    public void Bad_in_files_are_usage_errors_before_the_device_is_opened(int length, string? count)
    {
        var input = Path.Combine(_directory, "in.bin");
        File.WriteAllBytes(input, new byte[length]);
        var args = new List<string> { "write", Device, "--lba", "0", "--in", input, "--allow-write" };
        if (count is not null)
            args.AddRange(["--count", count]);

        Assert.Equal(ExitCodes.Usage, CardCommandKit.Run([.. args]));
    }

    [Theory]
    [InlineData("--pattern", "x", "--count", "0")]
    [InlineData("--lba", "-1", "--pattern", "x")]
    [InlineData("--pattern", "x", "--in", "/etc/hostname")]
    public void Bad_writes_are_usage_errors_before_the_device_is_opened(params string[] options)
    {
        var args = new[] { "write", Device, "--allow-write" }.Concat(options.Contains("--lba") ? options : ["--lba", "0", .. options]).ToArray();

        Assert.Equal(ExitCodes.Usage, CardCommandKit.Run(args));
    }

    [Fact]
    public void A_good_write_gets_as_far_as_the_missing_device() =>
        Assert.Equal(ExitCodes.Failed, CardCommandKit.Run("write", Device, "--lba", "0", "--pattern", "x", "--count", "2", "--allow-write"));

    [Fact]
    public void Irq_with_no_count_is_a_usage_error() => Assert.Equal(ExitCodes.Usage, CardCommandKit.Run("irq", Device, "--count", "0"));

    [Theory]
    [InlineData("--through-driver", "--count", "0")]
    [InlineData("--through-driver=maybe")]                      // a flag: true or false, nothing else
    public void Irq_through_the_driver_checks_its_arguments_before_the_device_is_opened(params string[] options) =>
        Assert.Equal(ExitCodes.Usage, CardCommandKit.Run(["irq", Device, .. options]));

    [Theory]
    [InlineData("--through-driver")]
    [InlineData("--through-driver=true")]
    [InlineData("--through-driver=false")]
    public void Irq_through_the_driver_is_a_flag_that_gets_as_far_as_the_missing_device(string option) =>
        Assert.Equal(ExitCodes.Failed, CardCommandKit.Run("irq", Device, option, "--count", "3"));

    [Fact]
    public void Dump_and_init_of_a_missing_device_fail_with_exit_1()
    {
        Assert.Equal(ExitCodes.Failed, CardCommandKit.Run("dump", Device));
        Assert.Equal(ExitCodes.Failed, CardCommandKit.Run("init", Device));
    }

    [Fact]
    public void Capacity_is_checked_after_bring_up_naming_both_numbers_before_any_data_command()
    {
        var rig = CardCommandKit.Rig();
        var before = rig.Fake.Commands.Count;

        var error = Assert.Throws<ArgumentException>(() =>
            CardCommands.Read(CardCommandKit.Context(rig), 131_070, 3, SdhciTransferMode.Pio, (_, _) => { }, null));

        Assert.Contains("ends at block 131073", error.Message, StringComparison.Ordinal);
        Assert.Contains("131072 blocks", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, rig.Fake.Commands.Count);
        Assert.Equal(ExitCodes.Usage, CommonOptions.Describe(error).Code);
    }

    [Fact]
    public void Capacity_is_checked_for_writes_too()
    {
        var rig = CardCommandKit.Rig(allowWrite: true);

        Assert.Throws<ArgumentException>(() =>
            CardCommands.Write(CardCommandKit.Context(rig), long.MaxValue - 1, 2, SdhciTransferMode.Pio, (_, _) => { }, null));
        Assert.DoesNotContain(rig.Fake.Commands, c => c.Index is 24 or 25);
    }

    [Fact]
    public void Range_checks_use_overflow_checked_arithmetic()
    {
        Assert.Equal(1024L, CardCommands.CheckRange(0, 2));
        Assert.Contains("does not fit a 64-bit byte address",
            Assert.Throws<ArgumentException>(() => CardCommands.CheckRange(long.MaxValue / 512, 1)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CardCommands.CheckRange(long.MaxValue, int.MaxValue));
        Assert.Contains("use --out FILE", Assert.Throws<ArgumentException>(() => CardCommands.CheckInline(65, json: false)).Message, StringComparison.Ordinal);
        CardCommands.CheckInline(64, json: true);
    }

    [Fact]
    public void A_read_that_fails_half_way_removes_the_partial_file_and_exits_1()
    {
        var rig = new SdRig(cardOptions: SdRig.FastCard() with { MaxBlocksPerCommand = 8, Retries = 0 });   // the first error is final
        var path = Path.Combine(_directory, "half.bin");
        var file = OutputFile.Create(path, force: false);
        rig.Fake.FailDataPhase(5, SdhciInterrupt.DataCrcError);   // the SCR, two CMD6 statuses, the first 8 blocks, then this
        using var signals = new SignalScope(register: false);
        long written = 0;

        var code = CardCommands.RunCard("fake0", rig.Card, null, signals, givesBack: false, context =>
        {
            try
            {
                return CardCommands.ReadBody(context, 0, 32, SdhciTransferMode.Pio, file, asJson: false);
            }
            finally
            {
                written = file.Length;
            }
        }, onFailure: file.Discard);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal(4096, written);                            // something was written, and it is gone
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_signal_during_a_read_stops_it_removes_the_partial_file_and_exits_128_plus_the_signal()
    {
        var rig = new SdRig(cardOptions: SdRig.FastCard() with { MaxBlocksPerCommand = 8 });
        var path = Path.Combine(_directory, "signalled.bin");
        var file = OutputFile.Create(path, force: false);
        using var signals = new SignalScope(register: false);
        var commandsAtSignal = 0;

        var code = CardCommands.RunCard("fake0", rig.Card, null, signals, givesBack: true, context =>
        {
            CardCommands.Read(context, 0, 64, SdhciTransferMode.Pio, (_, blocks) =>
            {
                file.Write(blocks);
                signals.Raise(PosixSignal.SIGTERM);
                signals.Raise(PosixSignal.SIGINT);              // the first signal decides the exit code
                commandsAtSignal = rig.Fake.Commands.Count(c => c.Index == 18);
            }, new CardCommands.BlockProgress(64, null, context.Stop));
            file.Commit();
            return ExitCodes.Ok;
        }, onFailure: file.Discard);

        Assert.Equal(ExitCodes.Terminated, code);
        Assert.Equal(143, code);
        Assert.Equal(1, rig.Fake.Commands.Count(c => c.Index == 18));   // stopped at the first command boundary
        Assert.Equal(1, commandsAtSignal);
        Assert.False(File.Exists(path));
        Assert.Equal("reset:01", rig.Fake.Log[^1]);                     // the controller was left reset
    }

    [Fact]
    public void A_signal_before_the_transfer_stops_after_bring_up()
    {
        var rig = new SdRig();
        using var signals = new SignalScope(register: false);
        signals.Raise(PosixSignal.SIGHUP);
        var ran = false;

        var code = CardCommands.RunCard("fake0", rig.Card, null, signals, givesBack: false, _ => { ran = true; return ExitCodes.Ok; });

        Assert.Equal(ExitCodes.HangUp, code);
        Assert.False(ran);
    }
}
