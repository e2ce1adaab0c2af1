namespace Vfio.Platform.Kernel;

/// <summary>The one seam between the safe API and the kernel. Every call returns what the kernel
/// returns, with errors as a negative errno (the kernel's own convention), so a fake (tests' FakeSyscalls) can
/// produce any failure on demand. <see cref="LinuxSyscalls"/> is the real one.</summary>
internal interface ISyscalls
{
    int Open(string path, int flags);

    int Close(int fd);

    /// <summary>An ioctl whose argument is an integer (or unused).</summary>
    int Ioctl(int fd, uint request, nuint argument);

    /// <summary>An ioctl whose argument points to <paramref name="argument"/>, which the kernel reads and may
    /// fill. Callers build it on the stack (a generated struct seen through <see cref="Structs.Bytes"/>, or
    /// stackalloc), so an ioctl allocates nothing.</summary>
    int Ioctl(int fd, uint request, Span<byte> argument);

    /// <summary>An ioctl whose argument holds, at <paramref name="addressOffset"/>, the address of a second
    /// buffer the kernel reads or fills (<c>IOMMU_IOAS_IOVA_RANGES</c>'s <c>allowed_iovas</c>): the real one
    /// writes that address while both are pinned, in Vfio.Native, so no pointer is made here.</summary>
    int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer);

    /// <summary>Maps and returns the address, or a negative errno.</summary>
    nint Mmap(nuint length, int protection, int flags, int fd, long offset);

    int Munmap(nint address, nuint length);

    /// <summary>Replaces the mapping at <paramref name="address"/> with an inaccessible reservation
    /// (<c>mmap(address, length, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)</c>):
    /// the old mapping is gone as with munmap, but the addresses stay taken, so nothing else is mapped
    /// there later and a stale access faults. Returns <paramref name="address"/>, or a negative errno.
    /// The default answers ENOSYS (the caller then unmaps): a fake's addresses may not be real mappings, and
    /// a MAP_FIXED over them would clobber the process.</summary>
    nint ReserveInaccessible(nint address, nuint length) => -Native.Errno.ENOSYS;

    int EventFd(uint initialValue, int flags);

    /// <summary>Anonymous shared memory with a descriptor (<c>memfd_create</c>): what
    /// <see cref="Mmio.MmioRegion.CreateShared(long, bool)"/> stands in for a device region with. Returns the
    /// descriptor or a negative errno; the default answers ENOSYS, for fakes that never make one.</summary>
    int MemfdCreate(string name, uint flags) => -Native.Errno.ENOSYS;

    /// <summary>Sets a file's size (<c>ftruncate</c>): 0 or a negative errno; the default answers ENOSYS.</summary>
    int Ftruncate(int fd, long length) => -Native.Errno.ENOSYS;

    /// <summary>Reads from a descriptor opened non-blocking (the library's eventfds): the call never
    /// sleeps, which lets the real one skip the runtime's GC-mode switch. Never pass a blocking descriptor.</summary>
    nint ReadNonBlocking(int fd, Span<byte> buffer);

    nint Write(int fd, ReadOnlySpan<byte> buffer);

    nint Pread(int fd, Span<byte> buffer, long offset);

    nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset);

    /// <summary>Polls the descriptors; returns how many are ready, 0 on timeout, or a negative errno.</summary>
    int Poll(Span<Native.pollfd> fds, int timeoutMilliseconds);
}
