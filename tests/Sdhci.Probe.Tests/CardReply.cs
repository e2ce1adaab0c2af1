using Sdhci.Probe.Sdhci;

namespace Sdhci.Probe.Tests;

/// <summary>What a card sends back for one command.</summary>
internal sealed record CardReply(SdResponseType Kind, uint Value = 0, byte[]? Long = null, CardData? Data = null);
