namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The SD bus speed modes, with CMD6 function group 1 (access mode) function numbers as values
/// (SD Physical Layer 3.01, 4.3.10.3, Table 4-11), which are also Host Control 2's UHS Mode Select values
/// (SD Host Controller 3.00, Host Control 2 register (0x3E): 0 SDR12, 1 SDR25, 2 SDR50, 3 SDR104, 4 DDR50). The values are not in
/// order of speed (DDR50 is 4): compare modes with <see cref="SdBusSpeeds.Rank"/>.
/// </summary>
/// <remarks>
/// <see cref="Sdr50"/>, <see cref="Ddr50"/> and <see cref="Sdr104"/> are UHS-I modes: 1.8 V signalling after
/// CMD11 and Host Control 2 UHS Mode Select; SDR104, and SDR50 where the host asks for it, need tuning (CMD19).
/// </remarks>
public enum SdBusSpeed
{
    /// <summary>Default Speed (DS): up to 25 MHz at 3.3 V signalling (function 0; SDR12 at 1.8 V).</summary>
    Default = 0,

    /// <summary>High Speed (HS): up to 50 MHz at 3.3 V signalling, Host Control 1 High Speed Enable (function 1; SDR25 at 1.8 V).</summary>
    High = 1,

    /// <summary>UHS-I SDR50: up to 100 MHz at 1.8 V signalling (function 2); tuning when the host asks for it (Capabilities bit 45).</summary>
    Sdr50 = 2,

    /// <summary>UHS-I SDR104: up to 208 MHz at 1.8 V signalling (function 3); always tuned.</summary>
    Sdr104 = 3,

    /// <summary>UHS-I DDR50: up to 50 MHz, data on both clock edges, at 1.8 V signalling (function 4; host: Capabilities bit 34); no tuning.</summary>
    Ddr50 = 4,
}
