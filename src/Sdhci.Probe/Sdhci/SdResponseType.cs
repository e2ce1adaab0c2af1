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
