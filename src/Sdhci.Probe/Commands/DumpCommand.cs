using System.CommandLine;
using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Commands;

/// <summary><c>sdhci-probe dump</c>: every register, in the kernel's sdhci_dumpregs() layout by default.</summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var decode = new Option<bool>("--decode") { Description = "Name every field of every register." };
        var json = CommonOptions.Json();
        var noIommu = CommonOptions.NoIommu();
        var bind = CommonOptions.BindForCommand();
        var command = new Command("dump", "Dump every SDHCI register (spec 3.00 and Arasan), in the layout of the kernel's sdhci_dumpregs(). Never reads the data port.") { device, decode, json, noIommu, bind };
        command.SetAction(result => CommonOptions.Run(result.GetValue(device), () =>
        {
            var name = result.GetValue(device)!;
            // A signal during the dump: nothing half-printed, a --bind device given back, 128 + the signal.
            using var signals = new SignalScope();
            using var session = ControllerSession.Open(name, result.GetValue(noIommu), result.GetValue(bind));
            var snapshot = SdhciDump.Read(session.Registers.Bus, session.DumpOptions);
            if (signals.Stopped)
                return CommonOptions.Interrupted(name, signals, $"nothing printed{(result.GetValue(bind) ? "; the controller is given back to its driver" : "")}");
            var health = SdhciHealth.Assess(snapshot);
            if (result.GetValue(json))
            {
                Console.WriteLine(SdhciDump.ToJson(SdhciDump.Decode(snapshot)));
            }
            else if (result.GetValue(decode))
            {
                Console.Write(SdhciDump.FormatDecoded(snapshot));
            }
            else
            {
                Console.Write(SdhciDump.FormatKernel(snapshot));
            }

            if (!health.IsOk)
            {
                Console.Error.WriteLine($"sdhci-probe: {health.Summary}");
                if (health.Advice is not null)
                {
                    Console.Error.WriteLine(health.Advice);
                }

                return ExitCodes.ControllerUnhealthy;
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
