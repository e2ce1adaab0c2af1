namespace Sdhci.Probe.Sdhci;

/// <summary>
/// The values of a controller's registers, each read exactly once, in the order they were read.
/// Every formatter works from a snapshot, so the text, the decode and the JSON of one dump agree.
/// </summary>
/// <example>
/// <code>
/// var snapshot = SdhciDump.Read(io);
/// ulong present = snapshot[SdhciRegisters.PresentState];
/// Console.WriteLine(snapshot.Capabilities.BaseClockMHz);
/// </code>
/// </example>
public sealed class SdhciSnapshot
{
    private readonly Dictionary<SdhciRegister, ulong> _byRegister;

    /// <summary>Makes a snapshot from values read elsewhere (a saved dump, a test).</summary>
    /// <param name="regionLength">Size of the register window the values came from.</param>
    /// <param name="values">The registers and their values; each register at most once.</param>
    /// <exception cref="ArgumentException">A register appears twice, or one of the data port or a write-only register is given a value.</exception>
    public SdhciSnapshot(int regionLength, IEnumerable<SdhciRegisterValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        RegionLength = regionLength;
        Values = [.. values];
        _byRegister = new Dictionary<SdhciRegister, ulong>(Values.Count);
        foreach (var (register, value) in Values)
        {
            if (!register.IsReadable)
                throw new ArgumentException($"{register} cannot have been read.", nameof(values));
            if (!_byRegister.TryAdd(register, value))
                throw new ArgumentException($"{register} appears twice.", nameof(values));
        }

        Version = new SdhciHostVersion((ushort)GetValueOrDefault(SdhciRegisters.HostControllerVersion));
        Capabilities = new SdhciCapabilities(GetValueOrDefault(SdhciRegisters.Capabilities), Version.SpecVersion);
        Context = new SdhciDecodeContext(Version, Capabilities);
    }

    /// <summary>Size of the register window in bytes.</summary>
    public int RegionLength { get; }

    /// <summary>Every register read, in reading order (standard block in spec order, then vendor registers).</summary>
    public IReadOnlyList<SdhciRegisterValue> Values { get; }

    /// <summary>The Host Controller Version register, decoded.</summary>
    public SdhciHostVersion Version { get; }

    /// <summary>The Capabilities register, decoded for <see cref="Version"/>.</summary>
    public SdhciCapabilities Capabilities { get; }

    /// <summary>What field descriptions need to know about this controller.</summary>
    public SdhciDecodeContext Context { get; }

    /// <summary>The value of <paramref name="register"/>.</summary>
    /// <param name="register">A register of this snapshot.</param>
    /// <exception cref="KeyNotFoundException">The register was not read.</exception>
    public ulong this[SdhciRegister register] => _byRegister.TryGetValue(register, out var value)
        ? value
        : throw new KeyNotFoundException($"{register} is not part of this snapshot.");

    /// <summary>Whether <paramref name="register"/> was read.</summary>
    /// <param name="register">The register.</param>
    /// <returns><see langword="true"/> when the snapshot holds its value.</returns>
    public bool Contains(SdhciRegister register) => _byRegister.ContainsKey(register);

    /// <summary>The value of <paramref name="register"/>, if it was read.</summary>
    /// <param name="register">The register.</param>
    /// <param name="value">Its value, or 0.</param>
    /// <returns><see langword="true"/> when the snapshot holds its value.</returns>
    public bool TryGetValue(SdhciRegister register, out ulong value) => _byRegister.TryGetValue(register, out value);

    private ulong GetValueOrDefault(SdhciRegister register) => _byRegister.GetValueOrDefault(register);
}
