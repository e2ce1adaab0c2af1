using System.Diagnostics;
using System.Globalization;
using Sdhci.Probe.Sdhci;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>The VFIO interrupt discipline (clear, then unmask), polling, lost interrupts, and the data port rule.</summary>
public class SdInterruptTests
{
    [Fact]
    public void Every_interrupt_is_cleared_in_the_controller_before_it_is_acknowledged()
    {
        var rig = SdRig.Initialized();
        var dma = new FakeDmaMemory(0x8000_0000, 1 << 16);
        rig.Fake.Attach(dma);
        rig.Card.ReadBlocks(0, 3);
        rig.Card.ReadBlocks(0, 3, SdhciTransferMode.Adma2, dma);

        var log = rig.Fake.Log;
        var acks = 0;
        for (var i = 0; i < log.Count; i++)
        {
            if (log[i] != "ack")
                continue;
            acks++;
            var fire = log.FindLastIndex(i, e => e.StartsWith("fire:", StringComparison.Ordinal));
            Assert.True(fire >= 0, $"ack at {i} without a fire");
            var pending = uint.Parse(log[fire]["fire:".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (uint)SdhciHost.HandledInterrupts;
            var cleared = log.Skip(fire + 1).Take(i - fire - 1)
                .Where(e => e.StartsWith("clear:", StringComparison.Ordinal))
                .Aggregate(0u, (all, e) => all | uint.Parse(e["clear:".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            Assert.True((cleared & pending) == pending, $"ack at {i}: fired with 0x{pending:x8}, cleared only 0x{cleared:x8} before the ack");
        }

        Assert.True(acks > 20, $"only {acks} interrupts");
        Assert.Equal(rig.Interrupt.Fired, rig.Interrupt.Acknowledged);
    }

    [Fact]
    public void Bring_up_and_reads_are_driven_by_interrupts_alone()
    {
        var rig = SdRig.Initialized();
        rig.Card.ReadBlocks(0, 4);

        Assert.Equal(0, rig.Interrupt.TimedOut);                          // no wait ran into its timeout
        Assert.True(rig.Interrupt.Fired > 0);
        Assert.False(rig.Fake.LineAsserted);                              // nothing left pending
    }

    [Fact]
    public void Polling_brings_the_card_up_and_reads_the_same_bytes()
    {
        var rig = SdRig.Initialized(polling: true);

        var bytes = rig.Card.ReadBlocks(42, 3);

        Assert.Equal(CardImage.Blocks(42, 3), bytes);
        Assert.Equal("QEMU!", rig.Card.Info!.Cid.ProductName);
        Assert.Equal(0, rig.Interrupt.Fired);                             // the fake line was never waited on
    }

    [Fact]
    public void A_lost_interrupt_costs_the_timeout_but_not_the_command()
    {
        var rig = new SdRig();
        rig.Host.Initialize();
        rig.Interrupt.Lost = true;
        var clock = Stopwatch.StartNew();

        var response = rig.Host.SendCommand(8, 0x1AA, SdResponseType.R7);

        Assert.Equal(0x1AAu, response.Value);
        Assert.True(clock.Elapsed >= SdRig.ShortTimeout, $"answered after {clock.Elapsed}");
        Assert.Equal(0u, rig.Fake.InterruptStatus & (uint)SdhciInterrupt.CommandComplete);  // still cleared
        Assert.Equal(0, rig.Interrupt.Acknowledged);                                          // nothing fired, nothing to unmask
    }

    [Fact]
    public void The_data_port_is_read_only_inside_PIO_read_phases_one_word_at_a_time()
    {
        var rig = SdRig.Initialized();
        Assert.Equal(2 + (2 * 16), rig.Fake.DataPortReads);              // the 8-byte SCR, the two 64-byte CMD6 statuses
        var dma = new FakeDmaMemory(0x8000_0000, 1 << 16);
        rig.Fake.Attach(dma);

        rig.Card.ReadBlocks(0, 5);
        var afterPio = rig.Fake.DataPortReads;
        rig.Card.ReadBlocks(0, 5, SdhciTransferMode.Adma2, dma);
        rig.Card.ReadBlocks(0, 5, SdhciTransferMode.Sdma, dma);
        SdhciDump.Read(rig.Fake, SdhciDumpOptions.Arasan);

        Assert.Equal(2 + (2 * 16) + (5 * 128), afterPio);
        Assert.Equal(afterPio, rig.Fake.DataPortReads);                  // DMA and the dump never touch it
        Assert.Equal(0, rig.Fake.DataPortViolations);
    }

    [Fact]
    public void Status_bits_that_arrive_together_are_all_used_from_one_interrupt()
    {
        // R1b: QEMU raises Transfer Complete (end of busy) together with Command Complete.
        var rig = new SdRig();
        rig.Fake.Card.BusyPolls = 0;
        rig.Host.Initialize();
        rig.Host.SendCommand(0, 0, SdResponseType.None);
        rig.Host.SendCommand(8, 0x1AA, SdResponseType.R7);
        rig.Host.SendApplicationCommand(0, 41, 0x4030_0000, SdResponseType.R3);
        rig.Host.SendCommand(2, 0, SdResponseType.R2);
        var rca = rig.Host.SendCommand(3, 0, SdResponseType.R6).Value >> 16;
        var firesBefore = rig.Interrupt.Fired;

        var status = rig.Host.SendCommand(7, rca << 16, SdResponseType.R1b);

        Assert.Equal(1, rig.Interrupt.Fired - firesBefore);
        Assert.Equal(0, rig.Interrupt.TimedOut);
        Assert.Equal(SdCardState.Standby, SdCardStatusInfo.State(status.Value));
        Assert.Equal(SdCardState.Transfer, rig.Fake.Card.State);
    }
}
