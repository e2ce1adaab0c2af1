using System.Buffers.Binary;
using System.Globalization;

namespace Sdhci.Probe.Sdhci;

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
