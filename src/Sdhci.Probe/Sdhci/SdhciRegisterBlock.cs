namespace Sdhci.Probe.Sdhci;

/// <summary>Which part of the register window a register belongs to.</summary>
public enum SdhciRegisterBlock
{
    /// <summary>The standard SD Host Controller registers, 0x00 to 0xFF.</summary>
    Standard,

    /// <summary>Arasan vendor registers in the standard block's reserved space.</summary>
    ArasanVendor,

    /// <summary>The eMMC command queue engine (CQHCI) Arasan's 5.1 core maps at 0x200.</summary>
    ArasanCqe,
}
