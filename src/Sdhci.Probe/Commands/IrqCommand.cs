using System.CommandLine;
using System.Diagnostics;
using Sdhci.Probe.Sdhci;
using Vfio.Platform.Mmio;
using S = Sdhci.Probe.Sdhci.SdhciBlock;

namespace Sdhci.Probe.Commands;

/// <summary><c>sdhci-probe irq</c>: real controller interrupts (command complete of CMD0), serviced from
/// userspace the VFIO way: wait on the eventfd, clear the cause in the controller, unmask. With
/// <c>--through-driver</c> each one is caused by a whole command through the SD driver
/// (<see cref="SdhciHost{TBus}.SendCommand"/>), and the latency is that call's.</summary>
internal static class IrqCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var count = new Option<int>("--count") { Description = "How many interrupts to cause and service.", DefaultValueFactory = _ => 100 };
        var json = CommonOptions.Json();
        var noIommu = CommonOptions.NoIommu();
        var bind = CommonOptions.BindForCommand();
        var throughDriver = new Option<bool>("--through-driver")
        {
            Description = "Send each CMD0 through the SD driver (SdhciHost.SendCommand, after its Initialize) and time the whole call, " +
                "instead of the bare loop's command write to eventfd read.",
        };
        var command = new Command("irq", "Wire the controller's interrupt, cause command-complete interrupts (CMD0), service each from userspace, and report count and latency.")
        {
            device, count, json, noIommu, bind, throughDriver,
        };
        command.SetAction(result => CommonOptions.Run(result.GetValue(device), () =>
        {
            var name = result.GetValue(device)!;
            var wanted = result.GetValue(count);
            if (wanted <= 0)
                throw new ArgumentException($"--count must be positive (was {wanted})");

            // Ctrl-C, SIGTERM, SIGHUP: finish the interrupt in flight, leave the controller reset, give a --bind device back.
            using var signals = new SignalScope();
            using var session = ControllerSession.Open(name, result.GetValue(noIommu), result.GetValue(bind));
            if (signals.Stopped)
                return CommonOptions.Interrupted(name, signals, Untouched(result.GetValue(bind)));
            var driver = result.GetValue(throughDriver);
            var report = driver ? ServiceThroughDriver(session, name, wanted, signals.Token) : Service(session, name, wanted, signals.Token);
            if (result.GetValue(json))
            {
                CommonOptions.WriteJson(report, ProbeJson.Default.IrqReport);
            }
            else
            {
                Console.WriteLine($"{name}: {report.Serviced} of {report.Requested} interrupts serviced, {report.Lost} lost ({(report.Automasked ? "level-triggered: cleared, then unmasked" : "edge")})");
                var what = driver ? "command latency (the whole SendCommand call)" : "wake-up latency from command write";
                Console.WriteLine($"{what}: p50 {report.P50Microseconds:0} us, p99 {report.P99Microseconds:0} us, max {report.MaxMicroseconds:0} us");
            }

            if (signals.Stopped)
            {
                return CommonOptions.Interrupted(name, signals,
                    $"stopped after {report.Serviced + report.Lost} of {report.Requested} interrupts; the controller is reset{(result.GetValue(bind) ? " and given back to its driver" : "")}");
            }

            return report.Lost == 0 && report.Serviced == report.Requested ? ExitCodes.Ok : ExitCodes.InterruptsLost;
        }));
        return command;
    }

    private static string Untouched(bool bind) => bind ? "the controller was not touched and is given back to its driver" : "the controller was not touched";

    private static IrqReport Service(ControllerSession session, string name, int count, CancellationToken stop)
    {
        var regs = session.Registers;
        PowerUp(session);
        try
        {
            regs.Write(S.NormalInterruptStatusEnable, (ushort)SdhciInterrupt.CommandComplete);
            regs.Write(S.NormalInterruptSignalEnable, (ushort)SdhciInterrupt.CommandComplete);
            regs.Write(S.NormalInterruptStatus, 0xFFFF);
            regs.Write(S.ErrorInterruptStatus, 0xFFFF);

            using var irq = session.EnableInterrupt();
            var latencies = new double[count];
            int serviced = 0, lost = 0;
            // A signal takes effect between interrupts: the one in flight is serviced (cleared, unmasked) first.
            for (var i = 0; i < count && !stop.IsCancellationRequested; i++)
            {
                regs.Write(S.Argument, 0);
                var sent = Stopwatch.GetTimestamp();
                regs.Write(S.Command, 0); // CMD0 GO_IDLE_STATE: no response, completes at once
                if (irq.Wait(TimeSpan.FromSeconds(1)) == 0)
                {
                    lost++;
                    continue;
                }

                var woke = Stopwatch.GetTimestamp();
                var status = regs.Read(S.NormalInterruptStatus);
                regs.Write(S.NormalInterruptStatus, status); // clear the cause first...
                if (irq.Info.IsAutomasked)
                {
                    irq.Unmask(); // ...then unmask, or the level-triggered line fires again at once
                }

                if ((status & (ushort)SdhciInterrupt.CommandComplete) != 0)
                {
                    latencies[serviced++] = Stopwatch.GetElapsedTime(sent, woke).TotalMicroseconds;
                }
            }

            return Summarize(name, count, latencies, serviced, lost, irq.Info.IsAutomasked);
        }
        finally
        {
            Quiet(session);
        }
    }

    /// <summary>
    /// The driver's path: the engine over the bound registers with the VFIO interrupt (as the card commands
    /// make it), <see cref="SdhciHost{TBus}.Initialize"/>, then <paramref name="count"/> times CMD0 by
    /// <see cref="SdhciHost{TBus}.SendCommand"/>: wait for the CMD line, write Argument, Transfer Mode and Command,
    /// wait on the eventfd, read and clear the 32-bit status, unmask, check for errors. A command that times
    /// out (no interrupt within the engine's command timeout) counts as lost; any other failure ends the run.
    /// </summary>
    private static IrqReport ServiceThroughDriver(ControllerSession session, string name, int count, CancellationToken stop)
    {
        try
        {
            using var irq = session.EnableInterrupt();
            var host = new SdhciHost<MmioBus>(session.Registers, new VfioSdhciInterrupt(irq));
            host.Initialize();
            var latencies = new double[count];
            int serviced = 0, lost = 0;
            for (var i = 0; i < count && !stop.IsCancellationRequested; i++)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    host.SendCommand(0, 0, SdResponseType.None); // CMD0 GO_IDLE_STATE: no response, completes at once
                }
                catch (SdhciException e) when (e.Error == SdhciError.Timeout)
                {
                    lost++;
                    continue;
                }

                latencies[serviced++] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            return Summarize(name, count, latencies, serviced, lost, irq.Info.IsAutomasked);
        }
        finally
        {
            Quiet(session);
        }
    }

    private static IrqReport Summarize(string name, int count, double[] latencies, int serviced, int lost, bool automasked)
    {
        Array.Sort(latencies, 0, serviced);
        double At(double q) => serviced == 0 ? 0 : latencies[Math.Min(serviced - 1, (int)(q * serviced))];
        return new IrqReport(name, count, serviced, lost, automasked, At(0.50), At(0.99), At(0.999), At(1.0));
    }

    /// <summary>Software Reset For All on the way out (the driver's reset, with its timeout): no bus power, no clock,
    /// no interrupt left enabled.</summary>
    private static void Quiet(ControllerSession session)
    {
        try
        {
            Engine(session).Reset(SdhciReset.All);
        }
        catch (SdhciException)
        {
            // The failure that brought us here, if any, is the news; a dead controller cannot be quieted anyway.
        }
    }

    /// <summary>Reset, bus power and the identification clock, as the driver does them: enough for CMD0 to complete.
    /// The bare loop then programs only Command Complete, as the C baseline does.</summary>
    private static void PowerUp(ControllerSession session)
    {
        var host = Engine(session);
        host.Reset(SdhciReset.All);
        host.PowerOn();
        host.SetClock(host.Options.IdentificationClockHz);
    }

    /// <summary>The driver over the session's registers, polling: creating it reads the version and capabilities only.</summary>
    private static SdhciHost<MmioBus> Engine(ControllerSession session) => new(session.Registers, new PollingInterrupt());
}
