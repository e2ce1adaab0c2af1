namespace Sdhci.Probe.Sdhci;

/// <summary>
/// A verdict on a snapshot: a controller whose every register reads 0 or all ones is not answering,
/// and the summary and advice say why that usually happens and what to do.
/// </summary>
/// <param name="Status">The verdict.</param>
/// <param name="Summary">One sentence on what was seen and what it means.</param>
/// <param name="Advice">What to do about it; null when there is nothing to do.</param>
/// <example>
/// <code>
/// var health = SdhciHealth.Assess(SdhciDump.Read(io));
/// if (!health.IsOk)
///     Console.Error.WriteLine($"{health.Summary}\n{health.Advice}");
/// </code>
/// </example>
public sealed record SdhciHealth(SdhciHealthStatus Status, string Summary, string? Advice)
{
    /// <summary>
    /// What to do when the registers are dead. The usual cause on a real ZynqMP: once sdhci-arasan
    /// is unbound, the clock framework gates the SD clocks nobody holds, and a gated controller reads
    /// 0 (or faults the bus). Rebinding does not ungate it in a useful state; only a boot that never
    /// lets the host driver own it does.
    /// </summary>
    internal const string DeadControllerAdvice =
        "Keep the host driver from ever binding to this controller: blacklist it on the kernel command line " +
        "(modprobe.blacklist=sdhci_of_arasan, or initcall_blacklist=sdhci_arasan_driver_init when it is built in; " +
        "modprobe.blacklist=sdhci_pci for a PCI controller) and hand the device to VFIO with driver_override instead. " +
        "Boot with clk_ignore_unused so the clocks the boot firmware enabled stay on although no driver claims them. " +
        "Then reboot: a clock gated after the unbind stays gated.";

    /// <summary>Whether the controller looks alive.</summary>
    public bool IsOk => Status == SdhciHealthStatus.Ok;

    /// <summary>Judges <paramref name="snapshot"/>: only the standard registers count, vendor ones may legitimately read 0.</summary>
    /// <param name="snapshot">The registers.</param>
    /// <returns>The verdict.</returns>
    public static SdhciHealth Assess(SdhciSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var standard = snapshot.Values.Where(v => v.Register.Block == SdhciRegisterBlock.Standard).ToList();
        if (standard.Count == 0)
            throw new ArgumentException("The snapshot holds no standard register.", nameof(snapshot));

        if (standard.TrueForAll(v => v.Value == 0))
        {
            return new SdhciHealth(SdhciHealthStatus.AllZeros,
                "Every SDHCI register reads 0, even Capabilities and Host Controller Version, which no working controller " +
                "reports as 0: the controller's clock is gated, or it is held in reset or powered down.",
                DeadControllerAdvice);
        }

        if (standard.TrueForAll(v => v.Value == v.Register.AllOnes))
        {
            return new SdhciHealth(SdhciHealthStatus.AllOnes,
                "Every SDHCI register reads all ones: nothing answers at this address. The controller's clock is gated, " +
                "it is powered down or in reset (a PCI function in D3 reads like this too), or the region is not the controller.",
                DeadControllerAdvice);
        }

        return new SdhciHealth(SdhciHealthStatus.Ok, "The controller answers: its registers hold plausible values.", null);
    }
}
