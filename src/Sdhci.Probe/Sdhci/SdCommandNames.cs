using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>Names of the SD commands this library sends, for messages a person reads.</summary>
public static class SdCommandNames
{
    /// <summary>"CMD17 (READ_SINGLE_BLOCK)", "ACMD41 (SD_SEND_OP_COND)", or "CMD60" for commands without a name here.</summary>
    /// <param name="index">The command index, 0 to 63.</param>
    /// <param name="application">Whether it followed CMD55 (an application command).</param>
    /// <returns>The label.</returns>
    public static string Describe(int index, bool application = false)
    {
        var name = application
            ? index switch
            {
                6 => "SET_BUS_WIDTH",
                13 => "SD_STATUS",
                22 => "SEND_NUM_WR_BLOCKS",
                23 => "SET_WR_BLK_ERASE_COUNT",
                41 => "SD_SEND_OP_COND",
                42 => "SET_CLR_CARD_DETECT",
                51 => "SEND_SCR",
                _ => null,
            }
            : index switch
            {
                0 => "GO_IDLE_STATE",
                1 => "SEND_OP_COND",                         // MMC and eMMC only: an SD card ignores it
                2 => "ALL_SEND_CID",
                3 => "SEND_RELATIVE_ADDR",
                6 => "SWITCH_FUNC",
                7 => "SELECT_CARD",
                8 => "SEND_IF_COND",
                9 => "SEND_CSD",
                10 => "SEND_CID",
                12 => "STOP_TRANSMISSION",
                13 => "SEND_STATUS",
                16 => "SET_BLOCKLEN",
                17 => "READ_SINGLE_BLOCK",
                18 => "READ_MULTIPLE_BLOCK",
                23 => "SET_BLOCK_COUNT",
                24 => "WRITE_BLOCK",
                25 => "WRITE_MULTIPLE_BLOCK",
                55 => "APP_CMD",
                _ => null,
            };
        var label = string.Create(CultureInfo.InvariantCulture, $"{(application ? "ACMD" : "CMD")}{index}");
        return name is null ? label : $"{label} ({name})";
    }
}
