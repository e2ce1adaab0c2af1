using Sdhci.Probe.Commands;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>The controller's DMA is stopped (a data-line reset) before its memory is released, on every way out of a transfer.</summary>
public class DmaLifetimeTests
{
    public enum Ending
    {
        Success,
        AdmaError,
        DataTimeout,
        EngineTimeout,
        Cancelled,
        SinkFails,
    }

    [Theory]
    [InlineData(Ending.Success)]
    [InlineData(Ending.AdmaError)]
    [InlineData(Ending.DataTimeout)]
    [InlineData(Ending.EngineTimeout)]
    [InlineData(Ending.Cancelled)]
    [InlineData(Ending.SinkFails)]
    public void The_data_line_is_reset_before_the_DMA_memory_is_released(Ending ending)
    {
        var rig = CardCommandKit.Rig(perCommand: 8);
        var mode = ending == Ending.EngineTimeout ? SdhciTransferMode.Sdma : SdhciTransferMode.Adma2;
        ObservedDma? dma = null;
        using var stop = new CancellationTokenSource();
        var context = CardCommandKit.Stoppable(rig, length =>
        {
            // SDMA across a 512 KiB boundary that QEMU-like hardware never resumes: the engine's own timeout.
            var address = ending == Ending.EngineTimeout ? 0x8007_F800UL : CardCommandKit.DmaAddress;
            return dma = new ObservedDma(rig.Fake, length, address);
        }, stop.Token);
        var phases = rig.Fake.DataPhases;
        switch (ending)
        {
            case Ending.AdmaError:
                rig.Fake.AdmaFault = true;
                break;
            case Ending.DataTimeout:
                // The second command's data phase, and every retry of it: the read fails for good.
                rig.Fake.FailDataPhase(phases + 2, SdhciInterrupt.DataTimeoutError);
                rig.Fake.Inject(FakePhase.Data, 18, SdhciInterrupt.DataTimeoutError, times: 100);
                break;
            case Ending.EngineTimeout:
                rig.Fake.SdmaResumeIgnored = true;
                break;
        }

        var chunks = 0;
        void Sink(long lba, ReadOnlySpan<byte> blocks)
        {
            chunks++;
            if (ending == Ending.SinkFails)
                throw new IOException("No space left on device");
            if (ending == Ending.Cancelled)
                stop.Cancel();
        }

        var progress = new CardCommands.BlockProgress(24, null, stop.Token);
        Exception? error = null;
        try
        {
            CardCommands.Read(context, 100, 24, mode, Sink, progress);
        }
        catch (Exception e)
        {
            error = e;
        }

        Assert.Equal(ending == Ending.Success, error is null);
        if (ending == Ending.Cancelled)
            Assert.IsType<OperationCanceledException>(error);
        Assert.NotNull(dma);
        Assert.True(dma.Released);
        var released = rig.Fake.Log.IndexOf("dma:released");
        Assert.Equal(released, rig.Fake.Log.LastIndexOf("dma:released"));     // released once
        Assert.Equal("reset:04", rig.Fake.Log[released - 1]);                   // the DMA stopped right before
        Assert.DoesNotContain(rig.Fake.Log.Skip(released), e => e.StartsWith("cmd:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_controller_that_will_not_reset_keeps_its_DMA_memory()
    {
        var rig = CardCommandKit.Rig(perCommand: 8);
        ObservedDma? dma = null;
        var context = CardCommandKit.Context(rig, length => dma = new ObservedDma(rig.Fake, length));

        CardCommands.Read(context, 0, 16, SdhciTransferMode.Adma2, (_, _) => rig.Fake.ResetNeverCompletes = true, null);

        Assert.NotNull(dma);
        Assert.False(dma.Released);                                               // it may still be written: never handed back
        Assert.Equal(["reset:04", "reset:01"], rig.Fake.Log.Where(e => e.StartsWith("reset:", StringComparison.Ordinal)).TakeLast(2));
    }

    [Fact]
    public void A_failed_write_also_stops_the_DMA_before_the_memory_goes()
    {
        var rig = CardCommandKit.Rig(perCommand: 8, allowWrite: true);
        ObservedDma? dma = null;
        var context = CardCommandKit.Context(rig, length => dma = new ObservedDma(rig.Fake, length));
        rig.Fake.Inject(FakePhase.Data, 25, SdhciInterrupt.DataCrcError, times: 100);   // every attempt

        Assert.Throws<SdhciException>(() => CardCommands.Write(context, 10, 4, SdhciTransferMode.Adma2, (_, span) => span.Fill(0x5A), null));

        var released = rig.Fake.Log.IndexOf("dma:released");
        Assert.True(released > 0);
        Assert.Equal("reset:04", rig.Fake.Log[released - 1]);
    }

    [Fact]
    public void The_command_path_resets_the_DMA_then_releases_it_then_resets_the_controller_and_says_why_it_failed()
    {
        var rig = new SdRig(cardOptions: SdRig.FastCard() with { MaxBlocksPerCommand = 8 });
        ObservedDma? dma = null;
        rig.Fake.AdmaFault = true;
        using var signals = new SignalScope(register: false);

        var code = CardCommands.RunCard("fake0", rig.Card, length => dma = new ObservedDma(rig.Fake, length), signals, givesBack: false,
            context => CardCommands.ReadBody(context, 0, 4, SdhciTransferMode.Adma2, null, asJson: false));

        Assert.Equal(ExitCodes.Failed, code);
        var released = rig.Fake.Log.IndexOf("dma:released");
        Assert.Equal("reset:04", rig.Fake.Log[released - 1]);
        Assert.Equal("reset:01", rig.Fake.Log[^1]);                               // and the whole controller last of all
    }

    [Fact]
    public void A_retried_ADMA2_command_reuses_its_memory_only_after_the_DMA_stopped()
    {
        var rig = CardCommandKit.Rig(perCommand: 8);
        ObservedDma? dma = null;
        var context = CardCommandKit.Context(rig, length => dma = new ObservedDma(rig.Fake, length));
        rig.Fake.Inject(FakePhase.Data, 18, SdhciInterrupt.AdmaError);
        var received = new List<byte>();
        rig.Fake.Log.Clear();

        CardCommands.Read(context, 40, 16, SdhciTransferMode.Adma2, (_, span) => received.AddRange(span.ToArray()), null);

        Assert.Equal(CardImage.Blocks(40, 16), received.ToArray());
        var log = rig.Fake.Log;
        var failed = log.FindIndex(e => e.StartsWith("fire:", StringComparison.Ordinal) && (Convert.ToUInt32(e[5..], 16) & (uint)SdhciInterrupt.AdmaError) != 0);
        var retry = log.FindIndex(failed, e => e == "cmd:18");
        Assert.True(failed >= 0 && retry > failed);
        Assert.Contains("reset:06", log.Skip(failed).Take(retry - failed));            // CMD and DAT reset between the error and the retry
        var released = log.IndexOf("dma:released");
        Assert.True(dma!.Released);
        Assert.Equal("reset:04", log[released - 1]);
    }
}
