using System.CommandLine;
using Sdhci.Probe.Commands;

// sdhci-probe: the entry point only wires the commands; each lives in Commands/.
var root = new RootCommand("Find SD host controllers, hand them to VFIO, dump their registers, service their interrupts, all from userspace.")
{
    ListCommand.Create(),
    BindCommands.CreateBind(),
    BindCommands.CreateUnbind(),
    StatusCommand.Create(),
    DumpCommand.Create(),
    IrqCommand.Create(),
    CardCommands.CreateInit(),
    CardCommands.CreateRead(),
    CardCommands.CreateWrite(),
};
return CommonOptions.Invoke(root.Parse(args));
