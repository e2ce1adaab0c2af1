using System.Runtime.CompilerServices;

namespace Vfio.Platform.Mmio;

/// <summary>
/// A register block bound to a bus: to mapped memory from <see cref="MmioRegion.Bind{TBlock}"/> (the bus is an
/// <see cref="MmioBus"/>: the block's base address, checked once when bound: region not disposed, block inside
/// the region and in mapped memory, aligned), or to a device model from <see cref="RegisterBlock.Over{TBlock, TBus}"/>.
/// On an <see cref="MmioBus"/> every named access is one volatile load or store at a constant offset from the
/// base: no range check, no call, no allocation, what C does with <c>#define</c>d offsets; on a model, one call
/// to it. The registers' types say at compile time which accesses are allowed (see <see cref="Access"/>).
/// </summary>
/// <typeparam name="TBlock">The block's description: its name, size and registers.</typeparam>
/// <typeparam name="TBus">Where the accesses go: <see cref="MmioBus"/> for the device, a class for a model of it.</typeparam>
/// <remarks>
/// <para>Lifetime: the block holds the mapping's address, not a reference the region could revoke (that
/// would cost a check per access), so it must not be used after its region is disposed (nor while it is
/// being disposed on another thread); stop using the block first, as with <see cref="MmioRegion.View"/>
/// and <see cref="MmioRegion.Span{T}"/>. What a mistake costs is bounded: once a block has been bound,
/// the region's Dispose leaves an inaccessible reservation where the mapping was, so a stale access
/// faults (the process stops with a segmentation fault) rather than reaching memory mapped there later.
/// A default (unbound) block has no address (or no model): an access throws <see cref="NullReferenceException"/>.</para>
/// <para>Drivers: take the bus as a type parameter (<c>Driver&lt;TBus&gt; where TBus : IRegisterBus</c>) and hold a
/// <c>RegisterBlock&lt;TBlock, TBus&gt;</c>; the device gets the direct accesses, a test binds the same block over a
/// model with <see cref="RegisterBlock.Over{TBlock, TBus}"/>.</para>
/// <para>Hot loops: the block is a small struct. Copy it into a local (or pass it as a parameter) before a
/// loop and the JIT keeps the base address in a register; read through a field of a class, it reloads the
/// address after each volatile access (one more load).</para>
/// <para>Regions that cannot be mmapped: a block is only bound to mapped memory. The same registers are
/// also accepted by <see cref="MmioRegion"/>'s own <c>Read</c>/<c>Write</c> overloads, which check each
/// access (one compare) and reach unmapped parts through pread/pwrite (a system call per access).</para>
/// </remarks>
/// <example>
/// <code>
/// var regs = region.Bind&lt;Sdhci&gt;();                       // checked here, once: RegisterBlock&lt;Sdhci, MmioBus&gt;
/// var status = regs.Read(Sdhci.InterruptStatus);          // one load
/// regs.Write(Sdhci.InterruptStatus, status);              // one store: write 1 to clear
/// regs.Modify(Sdhci.HostControl2, UhsModeSelect, UhsMode.Sdr50);
/// </code>
/// </example>
public readonly unsafe struct RegisterBlock<TBlock, TBus>
    where TBlock : struct, IRegisterBlock
    where TBus : IRegisterBus
{
    private readonly TBus _bus;

    /// <summary>Binds the block over <paramref name="bus"/>; <see cref="RegisterBlock.Over{TBlock, TBus}"/> checks the size first.</summary>
    internal RegisterBlock(TBus bus) => _bus = bus;

    /// <summary>Where the accesses go: the mapped region for <see cref="MmioBus"/>, or a device model.</summary>
    public TBus Bus => _bus;

    /// <summary>The block's base address in the mapping (0 unless the bus is an <see cref="MmioBus"/>), for tests.</summary>
    internal nint Address => typeof(TBus) == typeof(MmioBus) ? (nint)Mapped : 0;

    /// <summary>Whether the block is bound (false for a default block).</summary>
    public bool IsBound => typeof(TBus) == typeof(MmioBus) ? Mapped != null : _bus is not null;

    // For MmioBus (a struct: the JIT compiles this type once for it, and the test below is a constant there)
    // every access is a volatile load or store at the mapping's address; for any other bus, a call to it.
    // (MmioBus)(object) is the pattern the JIT folds to a plain copy for a struct type argument: no box.
    private byte* Mapped
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ((MmioBus)(object)_bus!).Address;
    }

    /// <summary>Reads a 8-bit register: one volatile load.</summary>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read<TAccess>(Register8<TBlock, TAccess> register)
        where TAccess : struct, Access.IReadable => typeof(TBus) == typeof(MmioBus) ? Volatile.Read(ref *(Mapped + register.Offset)) : _bus.Read8(register.Offset);

    /// <summary>Writes a 8-bit register: one volatile store.</summary>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TAccess>(Register8<TBlock, TAccess> register, byte value)
        where TAccess : struct, Access.IWritable => Store8(register.Offset, value);

    /// <summary>Read-modify-write of a 8-bit read-write register: clears the bits of <paramref name="clear"/>,
    /// then sets those of <paramref name="set"/>. Two bus accesses; not atomic against the device.</summary>
    /// <param name="register">The register.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set.</param>
    /// <returns>The value written.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Modify(Register8<TBlock, Access.ReadWrite> register, byte clear, byte set)
    {
        var value = (byte)((Read(register) & ~clear) | set);
        Write(register, value);
        return value;
    }

    /// <summary>Read-modify-write of one field of a 8-bit read-write register. Two bus accesses; not atomic
    /// against the device.</summary>
    /// <typeparam name="TValue">The field's value type.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="field">The field, which must lie in the register's 8 bits.</param>
    /// <param name="value">The field's new value.</param>
    /// <returns>The value written.</returns>
    /// <exception cref="ArgumentException">The field lies above bit 7; nothing is accessed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field; nothing is accessed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Modify<TValue>(Register8<TBlock, Access.ReadWrite> register, BitField<TValue> field, TValue value)
        where TValue : unmanaged
    {
        field.CheckFits(8);
        var bits = field.InPlace(value);
        var result = (byte)((Read(register) & ~field.Mask) | bits);
        Write(register, result);
        return result;
    }

    /// <summary>Read-modify-write of two fields of a 8-bit read-write register at once. Two bus accesses.</summary>
    /// <typeparam name="T1">The first field's value type.</typeparam>
    /// <typeparam name="T2">The second field's value type.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="field1">The first field.</param>
    /// <param name="value1">Its new value.</param>
    /// <param name="field2">The second field.</param>
    /// <param name="value2">Its new value.</param>
    /// <returns>The value written.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A field lies above bit 7; nothing is accessed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value does not fit its field; nothing is accessed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Modify<T1, T2>(Register8<TBlock, Access.ReadWrite> register, BitField<T1> field1, T1 value1, BitField<T2> field2, T2 value2)
        where T1 : unmanaged
        where T2 : unmanaged
    {
        field1.CheckFits(8);
        field2.CheckFits(8);
        var bits = field1.InPlace(value1) | field2.InPlace(value2);
        var result = (byte)((Read(register) & ~(field1.Mask | field2.Mask)) | bits);
        Write(register, result);
        return result;
    }

    /// <summary>Reads a 16-bit register: one volatile load.</summary>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read<TAccess>(Register16<TBlock, TAccess> register)
        where TAccess : struct, Access.IReadable => typeof(TBus) == typeof(MmioBus) ? Volatile.Read(ref *(ushort*)(Mapped + register.Offset)) : _bus.Read16(register.Offset);

    /// <summary>Writes a 16-bit register: one volatile store.</summary>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TAccess>(Register16<TBlock, TAccess> register, ushort value)
        where TAccess : struct, Access.IWritable => Store16(register.Offset, value);

    /// <summary>Read-modify-write of a 16-bit read-write register: clears the bits of <paramref name="clear"/>,
    /// then sets those of <paramref name="set"/>. Two bus accesses; not atomic against the device.</summary>
    /// <param name="register">The register.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set.</param>
    /// <returns>The value written.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Modify(Register16<TBlock, Access.ReadWrite> register, ushort clear, ushort set)
    {
        var value = (ushort)((Read(register) & ~clear) | set);
        Write(register, value);
        return value;
    }

    /// <summary>Read-modify-write of one field of a 16-bit read-write register. Two bus accesses; not atomic
    /// against the device.</summary>
    /// <typeparam name="TValue">The field's value type.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="field">The field, which must lie in the register's 16 bits.</param>
    /// <param name="value">The field's new value.</param>
    /// <returns>The value written.</returns>
    /// <exception cref="ArgumentException">The field lies above bit 15; nothing is accessed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field; nothing is accessed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Modify<TValue>(Register16<TBlock, Access.ReadWrite> register, BitField<TValue> field, TValue value)
        where TValue : unmanaged
    {
        field.CheckFits(16);
        var bits = field.InPlace(value);
        var result = (ushort)((Read(register) & ~field.Mask) | bits);
        Write(register, result);
        return result;
    }

    /// <summary>Read-modify-write of two fields of a 16-bit read-write register at once. Two bus accesses.</summary>
    /// <typeparam name="T1">The first field's value type.</typeparam>
    /// <typeparam name="T2">The second field's value type.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="field1">The first field.</param>
    /// <param name="value1">Its new value.</param>
    /// <param name="field2">The second field.</param>
    /// <param name="value2">Its new value.</param>
    /// <returns>The value written.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A field lies above bit 15; nothing is accessed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value does not fit its field; nothing is accessed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Modify<T1, T2>(Register16<TBlock, Access.ReadWrite> register, BitField<T1> field1, T1 value1, BitField<T2> field2, T2 value2)
        where T1 : unmanaged
        where T2 : unmanaged
    {
        field1.CheckFits(16);
        field2.CheckFits(16);
        var bits = field1.InPlace(value1) | field2.InPlace(value2);
        var result = (ushort)((Read(register) & ~(field1.Mask | field2.Mask)) | bits);
        Write(register, result);
        return result;
    }

    /// <summary>Reads a 32-bit register: one volatile load.</summary>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read<TAccess>(Register32<TBlock, TAccess> register)
        where TAccess : struct, Access.IReadable => typeof(TBus) == typeof(MmioBus) ? Volatile.Read(ref *(uint*)(Mapped + register.Offset)) : _bus.Read32(register.Offset);

    /// <summary>Writes a 32-bit register: one volatile store.</summary>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TAccess>(Register32<TBlock, TAccess> register, uint value)
        where TAccess : struct, Access.IWritable => Store32(register.Offset, value);

    /// <summary>Read-modify-write of a 32-bit read-write register: clears the bits of <paramref name="clear"/>,
    /// then sets those of <paramref name="set"/>. Two bus accesses; not atomic against the device.</summary>
    /// <param name="register">The register.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set.</param>
    /// <returns>The value written.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Modify(Register32<TBlock, Access.ReadWrite> register, uint clear, uint set)
    {
        var value = (uint)((Read(register) & ~clear) | set);
        Write(register, value);
        return value;
    }

    /// <summary>Read-modify-write of one field of a 32-bit read-write register. Two bus accesses; not atomic
    /// against the device.</summary>
    /// <typeparam name="TValue">The field's value type.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="field">The field, which must lie in the register's 32 bits.</param>
    /// <param name="value">The field's new value.</param>
    /// <returns>The value written.</returns>
    /// <exception cref="ArgumentException">The field lies above bit 31; nothing is accessed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field; nothing is accessed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Modify<TValue>(Register32<TBlock, Access.ReadWrite> register, BitField<TValue> field, TValue value)
        where TValue : unmanaged
    {
        field.CheckFits(32);
        var bits = field.InPlace(value);
        var result = (uint)((Read(register) & ~field.Mask) | bits);
        Write(register, result);
        return result;
    }

    /// <summary>Read-modify-write of two fields of a 32-bit read-write register at once. Two bus accesses.</summary>
    /// <typeparam name="T1">The first field's value type.</typeparam>
    /// <typeparam name="T2">The second field's value type.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="field1">The first field.</param>
    /// <param name="value1">Its new value.</param>
    /// <param name="field2">The second field.</param>
    /// <param name="value2">Its new value.</param>
    /// <returns>The value written.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A field lies above bit 31; nothing is accessed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value does not fit its field; nothing is accessed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Modify<T1, T2>(Register32<TBlock, Access.ReadWrite> register, BitField<T1> field1, T1 value1, BitField<T2> field2, T2 value2)
        where T1 : unmanaged
        where T2 : unmanaged
    {
        field1.CheckFits(32);
        field2.CheckFits(32);
        var bits = field1.InPlace(value1) | field2.InPlace(value2);
        var result = (uint)((Read(register) & ~(field1.Mask | field2.Mask)) | bits);
        Write(register, result);
        return result;
    }

    /// <summary>Reads a 64-bit register: one volatile load.</summary>
    /// <typeparam name="TAccess">The register's access kind; it must be readable.</typeparam>
    /// <param name="register">The register.</param>
    /// <returns>The value read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read<TAccess>(Register64<TBlock, TAccess> register)
        where TAccess : struct, Access.IReadable => typeof(TBus) == typeof(MmioBus) ? Volatile.Read(ref *(ulong*)(Mapped + register.Offset)) : _bus.Read64(register.Offset);

    /// <summary>Writes a 64-bit register: one volatile store.</summary>
    /// <typeparam name="TAccess">The register's access kind; it must be writable.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="value">The value to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<TAccess>(Register64<TBlock, TAccess> register, ulong value)
        where TAccess : struct, Access.IWritable => Store64(register.Offset, value);

    /// <summary>Read-modify-write of a 64-bit read-write register: clears the bits of <paramref name="clear"/>,
    /// then sets those of <paramref name="set"/>. Two bus accesses; not atomic against the device.</summary>
    /// <param name="register">The register.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set.</param>
    /// <returns>The value written.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Modify(Register64<TBlock, Access.ReadWrite> register, ulong clear, ulong set)
    {
        var value = (ulong)((Read(register) & ~clear) | set);
        Write(register, value);
        return value;
    }

    /// <summary>Read-modify-write of one field of a 64-bit read-write register. Two bus accesses; not atomic
    /// against the device.</summary>
    /// <typeparam name="TValue">The field's value type.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="field">The field, which must lie in the register's 64 bits.</param>
    /// <param name="value">The field's new value.</param>
    /// <returns>The value written.</returns>
    /// <exception cref="ArgumentException">The field lies above bit 63; nothing is accessed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit the field; nothing is accessed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Modify<TValue>(Register64<TBlock, Access.ReadWrite> register, BitField<TValue> field, TValue value)
        where TValue : unmanaged
    {
        field.CheckFits(64);
        var bits = field.InPlace(value);
        var result = (ulong)((Read(register) & ~field.Mask) | bits);
        Write(register, result);
        return result;
    }

    /// <summary>Read-modify-write of two fields of a 64-bit read-write register at once. Two bus accesses.</summary>
    /// <typeparam name="T1">The first field's value type.</typeparam>
    /// <typeparam name="T2">The second field's value type.</typeparam>
    /// <param name="register">The register.</param>
    /// <param name="field1">The first field.</param>
    /// <param name="value1">Its new value.</param>
    /// <param name="field2">The second field.</param>
    /// <param name="value2">Its new value.</param>
    /// <returns>The value written.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A field lies above bit 63; nothing is accessed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value does not fit its field; nothing is accessed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Modify<T1, T2>(Register64<TBlock, Access.ReadWrite> register, BitField<T1> field1, T1 value1, BitField<T2> field2, T2 value2)
        where T1 : unmanaged
        where T2 : unmanaged
    {
        field1.CheckFits(64);
        field2.CheckFits(64);
        var bits = field1.InPlace(value1) | field2.InPlace(value2);
        var result = (ulong)((Read(register) & ~(field1.Mask | field2.Mask)) | bits);
        Write(register, result);
        return result;
    }

    /// <summary>Reads the 32-bit data port <paramref name="register"/> <c>destination.Length</c> times, in
    /// order, one volatile load each: the way to drain a FIFO behind one address.</summary>
    /// <param name="register">The data port.</param>
    /// <param name="destination">Receives the values read.</param>
    public void ReadRepeated(Register32<TBlock, Access.DataPort> register, Span<uint> destination)
    {
        if (typeof(TBus) != typeof(MmioBus))
        {
            _bus.ReadRepeated32(register.Offset, destination);
            return;
        }

        var port = (uint*)(Mapped + register.Offset);
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = Volatile.Read(ref *port);
        }
    }

    /// <summary>Writes <paramref name="source"/> to the 32-bit data port <paramref name="register"/>, one
    /// volatile store per value, in order: the way to fill a FIFO behind one address.</summary>
    /// <param name="register">The data port.</param>
    /// <param name="source">The values to write.</param>
    public void WriteRepeated(Register32<TBlock, Access.DataPort> register, ReadOnlySpan<uint> source)
    {
        if (typeof(TBus) != typeof(MmioBus))
        {
            _bus.WriteRepeated32(register.Offset, source);
            return;
        }

        var port = (uint*)(Mapped + register.Offset);
        foreach (var value in source)
        {
            Volatile.Write(ref *port, value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store8(int offset, byte value)
    {
        if (typeof(TBus) == typeof(MmioBus))
        {
            Volatile.Write(ref *(Mapped + offset), value);
        }
        else
        {
            _bus.Write8(offset, value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store16(int offset, ushort value)
    {
        if (typeof(TBus) == typeof(MmioBus))
        {
            Volatile.Write(ref *(ushort*)(Mapped + offset), value);
        }
        else
        {
            _bus.Write16(offset, value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store32(int offset, uint value)
    {
        if (typeof(TBus) == typeof(MmioBus))
        {
            Volatile.Write(ref *(uint*)(Mapped + offset), value);
        }
        else
        {
            _bus.Write32(offset, value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store64(int offset, ulong value)
    {
        if (typeof(TBus) == typeof(MmioBus))
        {
            Volatile.Write(ref *(ulong*)(Mapped + offset), value);
        }
        else
        {
            _bus.Write64(offset, value);
        }
    }
}
