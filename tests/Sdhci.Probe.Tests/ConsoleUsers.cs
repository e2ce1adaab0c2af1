using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>Tests that run commands writing to the console run one at a time.</summary>
[CollectionDefinition(nameof(ConsoleUsers), DisableParallelization = true)]
public sealed class ConsoleUsers;
