using Sdhci.Probe.Sdhci;
using Vfio.Native;
using Vfio.Platform;
using Vfio.Platform.Dma;
using Vfio.Platform.Interrupts;
using Vfio.Platform.Iommufd;
using Vfio.Platform.Mmio;
using Vfio.Platform.Preparation;

namespace Sdhci.Probe.Commands;

/// <summary>An open controller: the VFIO container and group (or, with --iommufd, the iommufd and its
/// address space), the device, its SDHCI register block bound over the mapped region, and (with --bind)
/// the temporary binding that is undone on dispose.</summary>
internal sealed class ControllerSession : IDisposable
{
    private readonly VfioDeviceBinding? _binding;
    private readonly IDisposable _owner;

    private ControllerSession(VfioDeviceBinding? binding, IDisposable owner, VfioDevice device, MmioRegion region, bool isArasan)
    {
        _binding = binding;
        _owner = owner;
        Device = device;
        Region = region;
        Registers = region.Bind<SdhciBlock>();
        IsArasan = isArasan;
    }

    /// <summary>Where DMA buffers are mapped for the controller (type1 container or iommufd address space);
    /// null in no-IOMMU mode.</summary>
    public IDmaSpace? DmaSpace => Device.DmaSpace;

    public VfioDevice Device { get; }

    public MmioRegion Region { get; }

    /// <summary>The standard SDHCI registers, bound once: each named access is one load or store. Its
    /// <see cref="RegisterBlock{TBlock, TBus}.Bus"/> reaches the whole window with checked accesses (the dump's vendor registers).</summary>
    public RegisterBlock<SdhciBlock, MmioBus> Registers { get; }

    /// <summary>A ZynqMP/Arasan controller (platform device with an arasan compatible).</summary>
    public bool IsArasan { get; }

    public SdhciDumpOptions DumpOptions => IsArasan ? SdhciDumpOptions.Arasan : SdhciDumpOptions.Standard;

    /// <summary>Opens <paramref name="name"/>. Without <paramref name="bindFirst"/> the device must already
    /// be bound to VFIO (sdhci-probe bind); with it, it is bound now and given back on dispose.</summary>
    /// <param name="name">The controller's sysfs name.</param>
    /// <param name="noIommu">Accept (and with <paramref name="bindFirst"/> turn on) a no-IOMMU group.</param>
    /// <param name="bindFirst">Bind it to VFIO for this session, and give it back on dispose.</param>
    /// <param name="sysfsRoot">Where sysfs is mounted.</param>
    /// <param name="useIommufd">Open it through its device cdev and an iommufd instead of its group.</param>
    /// <param name="busMaster">Set the PCI command register's Bus Master Enable (DMA and MSI need it). Off for
    /// commands that only look (dump) or take a wired interrupt (irq): they leave the device as they found it.</param>
    public static ControllerSession Open(string name, bool noIommu, bool bindFirst, string sysfsRoot = Vfio.Platform.Discovery.HostDevice.DefaultSysfsRoot, bool useIommufd = false, bool busMaster = false)
    {
        var info = BindCommands.RequireController(name, sysfsRoot);

        VfioDeviceBinding? binding = null;
        if (!info.ReadyForVfio)
        {
            if (!bindFirst)
            {
                throw new VfioException("open", name, Errno.ENODEV,
                    $"{name} is bound to {info.Driver ?? "no driver"}, not to VFIO. Run 'sdhci-probe bind {name}' first, or pass --bind to bind it for this command only.");
            }

            // The card is checked here too: a mounted card refuses the bind (sdhci-probe bind --force is the override).
            binding = VfioDeviceBinding.Bind(name, new VfioBindOptions { SysfsRoot = sysfsRoot, EnableNoIommu = noIommu });
        }

        IDisposable? owner = null;
        try
        {
            VfioDevice device;
            if (useIommufd)
            {
                var iommufd = IommufdContext.Open(new IommufdOptions { SysfsRoot = sysfsRoot });
                owner = iommufd;
                device = iommufd.OpenDevice(name);
            }
            else
            {
                var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = noIommu });
                owner = container;
                var group = binding is not null ? container.OpenGroup(binding.GroupPath) : container.OpenGroupOf(name, sysfsRoot);
                device = group.OpenDevice(name);
            }

            if (busMaster && device.IsPci)
            {
                device.SetPciBusMaster(true); // SDMA and ADMA2 need it; vfio-pci does not set it, and clears it on release
            }

            var region = device.MapRegion(0);
            return new ControllerSession(binding, owner, device, region, info.Bus == "platform" && info.Identity.Contains("arasan", StringComparison.OrdinalIgnoreCase));
        }
        catch
        {
            owner?.Dispose();
            binding?.Dispose();
            throw;
        }
    }

    public VfioInterrupt EnableInterrupt() => Device.EnableInterrupt(0);

    public void Dispose()
    {
        _owner.Dispose();
        _binding?.Dispose();
    }
}
