using System.Buffers.Binary;
using System.Globalization;

namespace Sdhci.Probe.Sdhci;

/// <summary>The response an SD command expects, which decides the Command register's response bits and checks.</summary>
public enum SdResponseType
{
    /// <summary>No response (CMD0).</summary>
    None,

    /// <summary>R1: 48 bits, card status; CRC and index checked.</summary>
    R1,

    /// <summary>R1b: R1 followed by a busy signal on DAT0 (CMD7, CMD12); the engine waits for its end.</summary>
    R1b,

    /// <summary>R2: 136 bits, CID or CSD; CRC checked, no index.</summary>
    R2,

    /// <summary>R3: 48 bits, OCR (ACMD41); neither CRC nor index (the card sends all ones there).</summary>
    R3,

    /// <summary>R6: 48 bits, published RCA and status bits (CMD3); CRC and index checked.</summary>
    R6,

    /// <summary>R7: 48 bits, card interface condition (CMD8); CRC and index checked.</summary>
    R7,
}

/// <summary>
/// What came back from a command: the four response registers as the controller left them, and
/// the response decoded the way Linux's <c>sdhci.c</c> decodes it.
/// </summary>
/// <param name="Type">The response type that was requested.</param>
/// <param name="Response0">Response register 0x10.</param>
/// <param name="Response1">Response register 0x14.</param>
/// <param name="Response2">Response register 0x18.</param>
/// <param name="Response3">Response register 0x1C.</param>
/// <example>
/// <code>
/// var r7 = host.SendCommand(8, 0x1AA, SdResponseType.R7);
/// bool echoed = (r7.Value &amp; 0xFFF) == 0x1AA;
/// var cid = Cid.Parse(host.SendCommand(2, 0, SdResponseType.R2).GetLong());
/// </code>
/// </example>
public readonly record struct SdResponse(SdResponseType Type, uint Response0, uint Response1, uint Response2, uint Response3)
{
    /// <summary>
    /// A 48-bit response's payload, bits 39:8 of the frame (card status, OCR, RCA and status, or
    /// the CMD8 echo): Response register 0x10.
    /// </summary>
    public uint Value => Response0;

    /// <summary>
    /// The response of the Auto CMD12 the controller sent after a multi-block transfer (Response
    /// register 0x1C then), or null when there was none.
    /// </summary>
    public uint? AutoCommandResponse { get; init; }

    /// <summary>
    /// A 136-bit (R2) response as the card sent bits 127:0, most significant byte first: the CID or
    /// CSD. The controller strips the CRC and keeps bits 127:8 in its 120 response bits, so every
    /// word is shifted left by 8 (as <c>sdhci_read_rsp_136</c> does) and the last byte, where the CRC
    /// was, reads 0.
    /// </summary>
    /// <returns>16 bytes, big-endian, the way the card's register is specified.</returns>
    public byte[] GetLong()
    {
        ReadOnlySpan<uint> registers = [Response3, Response2, Response1, Response0];
        var bytes = new byte[16];
        for (var i = 0; i < 4; i++)
        {
            var word = registers[i] << 8;
            if (i < 3)
                word |= registers[i + 1] >> 24;
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * 4), word);
        }

        return bytes;
    }

    /// <inheritdoc />
    public override string ToString() => Type == SdResponseType.R2
        ? string.Create(CultureInfo.InvariantCulture, $"R2 {Convert.ToHexString(GetLong()).ToLowerInvariant()}")
        : string.Create(CultureInfo.InvariantCulture, $"{Type} 0x{Response0:x8}");
}

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
