using Vfio.Native;
using Vfio.Platform.Dma;
using Vfio.Platform.Kernel;
using Vfio.Platform.Preparation;

namespace Vfio.Platform;

/// <summary>A VFIO container (<c>/dev/vfio/vfio</c>): an IOMMU context that groups are attached to.
/// Dispose order follows the kernel's: devices, then groups, then the container.</summary>
/// <example>
/// <code>
/// using var container = VfioContainer.Open(new VfioContainerOptions { AllowNoIommu = true });
/// using var group = container.OpenGroupOf("ff170000.mmc");
/// using var device = group.OpenDevice("ff170000.mmc");
/// using var regs = device.MapRegion(0);
/// Console.WriteLine($"SDHCI version 0x{regs.Read16(0xFE):x4}");
/// </code>
/// </example>
public sealed class VfioContainer : IDmaSpace, IDmaUnmapper, IDisposable
{
    private readonly ISyscalls _sys;
    private readonly KernelFd _fd;
    private readonly List<VfioGroup> _groups = [];
    private readonly List<DmaMapping> _mappings = [];
    private IovaAllocator? _iova;
    private VfioIommuInfo? _iommuInfo;

    private VfioContainer(ISyscalls sys, ISysfs sysfs, KernelFd fd, VfioContainerOptions options, int apiVersion)
    {
        _sys = sys;
        Sysfs = sysfs;
        _fd = fd;
        Options = options;
        ApiVersion = apiVersion;
    }

    /// <summary>The options the container was opened with.</summary>
    public VfioContainerOptions Options { get; }

    /// <summary><c>VFIO_GET_API_VERSION</c> (0 for every kernel so far).</summary>
    public int ApiVersion { get; }

    /// <summary>The IOMMU back-end, chosen when the first group is attached.</summary>
    public VfioIommuType IommuType { get; private set; }

    internal ISyscalls Sys => _sys;

    /// <summary>Where groups and devices are looked up (<see cref="VfioContainerOptions.SysfsRoot"/>).</summary>
    internal ISysfs Sysfs { get; }

    internal KernelFd Fd => _fd;

    /// <summary>Opens the container and checks the API version.</summary>
    /// <exception cref="VfioException">No VFIO in the kernel, no permission, or an unknown API version.</exception>
    public static VfioContainer Open(VfioContainerOptions? options = null) => Open(LinuxSyscalls.Instance, options ?? new VfioContainerOptions());

    internal static VfioContainer Open(ISyscalls sys, VfioContainerOptions options, ISysfs? sysfs = null)
    {
        var path = options.ContainerPath;
        var fd = sys.Open(path, LibcConstants.O_RDWR | LibcConstants.O_CLOEXEC);
        if (fd < 0)
        {
            throw new VfioException("open", path, -fd, ErrnoHints.For(KernelCall.OpenContainer, -fd, path));
        }

        var handle = new KernelFd(sys, fd);
        try
        {
            var version = sys.Ioctl(fd, VfioUapi.VFIO_GET_API_VERSION, 0);
            if (version < 0)
            {
                throw new VfioException("VFIO_GET_API_VERSION", path, -version);
            }

            if (version != VfioUapi.VFIO_API_VERSION)
            {
                throw new VfioException("VFIO_GET_API_VERSION", path, Errno.EPROTO, $"The kernel speaks VFIO API {version}; this library speaks {VfioUapi.VFIO_API_VERSION}.");
            }

            return new VfioContainer(sys, sysfs ?? new Sysfs(options.SysfsRoot), handle, options, version);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary><c>VFIO_CHECK_EXTENSION</c>: whether the kernel supports an extension (an IOMMU type, ...).</summary>
    public bool CheckExtension(uint extension)
    {
        var result = _sys.Ioctl(_fd.Fd, VfioUapi.VFIO_CHECK_EXTENSION, extension);
        return result < 0 ? throw new VfioException("VFIO_CHECK_EXTENSION", Options.ContainerPath, -result) : result > 0;
    }

    /// <summary>Opens IOMMU group <paramref name="number"/> (<c>/dev/vfio/N</c>, or <c>/dev/vfio/noiommu-N</c>
    /// when <see cref="VfioContainerOptions.AllowNoIommu"/> is set and only that node exists) and attaches it.</summary>
    public VfioGroup OpenGroup(int number)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        var regular = Path.Combine(Options.GroupDirectory, number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var noIommu = Path.Combine(Options.GroupDirectory, $"noiommu-{number}");
        if (!File.Exists(regular) && File.Exists(noIommu))
        {
            return OpenGroup(noIommu);
        }

        return OpenGroup(regular);
    }

    /// <summary>Opens the group of a device, found from sysfs (<c>/sys/bus/*/devices/NAME/iommu_group</c>).</summary>
    /// <param name="deviceName">The device's sysfs name.</param>
    /// <param name="sysfsRoot">The sysfs mount; null for <see cref="VfioContainerOptions.SysfsRoot"/>.</param>
    public VfioGroup OpenGroupOf(string deviceName, string? sysfsRoot = null)
    {
        var group = VfioGroup.GroupNumberOf(sysfsRoot is null ? Sysfs : new Sysfs(sysfsRoot), deviceName);
        return OpenGroup(group);
    }

    /// <summary>Opens a group node by path and attaches it to this container.</summary>
    public VfioGroup OpenGroup(string path)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        var isNoIommu = Path.GetFileName(path).StartsWith("noiommu-", StringComparison.Ordinal);
        if (isNoIommu && !Options.AllowNoIommu)
        {
            throw new VfioException("open", path, Errno.EPERM,
                "This is a no-IOMMU group: the device would not be isolated and DMA mapping is impossible. Pass AllowNoIommu = true to accept that.");
        }

        var group = VfioGroup.Open(this, path, isNoIommu);
        try
        {
            if (IommuType == VfioIommuType.None)
            {
                SetIommu(isNoIommu, path);
            }
            else if ((IommuType == VfioIommuType.NoIommu) != isNoIommu)
            {
                throw new VfioException("VFIO_GROUP_SET_CONTAINER", path, Errno.EINVAL, "A container cannot mix no-IOMMU groups with IOMMU-backed ones.");
            }

            _groups.Add(group);
            return group;
        }
        catch
        {
            group.Dispose();
            throw;
        }
    }

    internal void Forget(VfioGroup group) => _groups.Remove(group);

    /// <summary>Wraps a container descriptor received from another process (<see cref="Handover.VfioHandover"/>):
    /// nothing is opened, the IOMMU type is the one the sender set. Checks <c>VFIO_GET_API_VERSION</c>, and
    /// for type1 <c>VFIO_IOMMU_GET_INFO</c> (which fails unless that IOMMU is set). The caller closes
    /// <paramref name="fd"/> when this throws.</summary>
    internal static VfioContainer Adopt(ISyscalls sys, KernelFd fd, VfioIommuType iommuType, string target)
    {
        var version = sys.Ioctl(fd.Fd, VfioUapi.VFIO_GET_API_VERSION, 0);
        if (version < 0)
        {
            throw new VfioException("VFIO_GET_API_VERSION", target, -version, "The descriptor received as the container is not a VFIO container.");
        }

        if (version != VfioUapi.VFIO_API_VERSION)
        {
            throw new VfioException("VFIO_GET_API_VERSION", target, Errno.EPROTO, $"The kernel speaks VFIO API {version}; this library speaks {VfioUapi.VFIO_API_VERSION}.");
        }

        var options = new VfioContainerOptions { AllowNoIommu = iommuType == VfioIommuType.NoIommu };
        var container = new VfioContainer(sys, new Sysfs(options.SysfsRoot), fd, options, version) { IommuType = iommuType };
        if (iommuType != VfioIommuType.NoIommu)
        {
            _ = container.GetIommuInfo();
        }

        return container;
    }

    /// <summary>Wraps a received group descriptor attached to this container.</summary>
    internal VfioGroup AdoptGroup(KernelFd fd, string path, bool isNoIommu)
    {
        var group = VfioGroup.Adopt(this, fd, path, isNoIommu);
        _groups.Add(group);
        return group;
    }

    /// <summary>Whether <paramref name="group"/> is the container's only group and no DMA is mapped.</summary>
    internal bool IsExclusiveTo(VfioGroup group) => _groups.Count == 1 && ReferenceEquals(_groups[0], group) && _mappings.Count == 0;

    /// <summary>After a handover: closes this process's descriptor; the container lives on in the receiver.</summary>
    internal void Relinquish()
    {
        _groups.Clear();
        _fd.Dispose();
    }

    /// <summary><c>VFIO_IOMMU_GET_INFO</c>: page sizes and the IOVA ranges of the type1 IOMMU.</summary>
    /// <exception cref="VfioException">No group attached yet, or a no-IOMMU container.</exception>
    public VfioIommuInfo GetIommuInfo()
    {
        RequireIommu("VFIO_IOMMU_GET_INFO");
        if (_iommuInfo is not null)
        {
            return _iommuInfo;
        }

        // Room for the usual capability chain on the stack; the kernel says when it needs more.
        Span<byte> buffer = stackalloc byte[Structs.InfoStackSize];
        for (var attempt = 0; ; attempt++)
        {
            buffer.Clear();
            System.Runtime.InteropServices.MemoryMarshal.Write(buffer, (uint)buffer.Length); // argsz
            var result = _sys.Ioctl(_fd.Fd, VfioUapi.VFIO_IOMMU_GET_INFO, buffer);
            if (result < 0)
            {
                throw new VfioException("VFIO_IOMMU_GET_INFO", Options.ContainerPath, -result);
            }

            var info = Structs.Read<vfio_iommu_type1_info>(buffer, 0);
            if (info.argsz > buffer.Length && attempt == 0 && info.argsz <= 1 << 20)
            {
                buffer = new byte[info.argsz];
                continue;
            }

            var ranges = new List<(ulong, ulong)>();
            uint? available = null;
            if ((info.flags & VfioUapi.VFIO_IOMMU_INFO_CAPS) != 0 && info.cap_offset != 0)
            {
                List<VfioCapability> chain;
                try
                {
                    // What the kernel filled (argsz), not the spare room of the stack buffer: the last capability ends there.
                    chain = CapabilityChain.Parse(buffer[..Math.Min(buffer.Length, (int)info.argsz)], info.cap_offset, (int)Structs.Size<vfio_iommu_type1_info>());
                }
                catch (InvalidDataException e)
                {
                    throw new VfioException("VFIO_IOMMU_GET_INFO", Options.ContainerPath, Errno.EPROTO, $"The kernel's capability chain is malformed: {e.Message}");
                }

                foreach (var capability in chain)
                {
                    var span = buffer.Slice(capability.Offset, capability.Length);
                    if (capability.Id == VfioUapi.VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE && span.Length >= vfio_iommu_type1_info_cap_iova_range.iova_ranges_Offset)
                    {
                        var head = Structs.Read<vfio_iommu_type1_info_cap_iova_range>(span, 0);
                        var room = (span.Length - vfio_iommu_type1_info_cap_iova_range.iova_ranges_Offset) / (int)Structs.Size<vfio_iova_range>();
                        foreach (var range in vfio_iommu_type1_info_cap_iova_range.iova_ranges(span, (int)Math.Min(head.nr_iovas, (uint)room)))
                        {
                            ranges.Add((range.start, range.end));
                        }
                    }
                    else if (capability.Id == VfioUapi.VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL && span.Length >= (int)Structs.Size<vfio_iommu_type1_info_dma_avail>())
                    {
                        available = Structs.Read<vfio_iommu_type1_info_dma_avail>(span, 0).avail;
                    }
                }
            }

            if (ranges.Count == 0)
            {
                ranges.Add((0, ulong.MaxValue));
            }

            return _iommuInfo = new VfioIommuInfo((info.flags & VfioUapi.VFIO_IOMMU_INFO_PGSIZES) != 0 ? info.iova_pgsizes : 0, ranges, available);
        }
    }

    /// <summary>Maps <paramref name="buffer"/> for the devices of this container (<c>VFIO_IOMMU_MAP_DMA</c>),
    /// at <paramref name="iova"/> or at an address the container's allocator picks from the IOMMU's ranges.
    /// The device can then read and (unless <paramref name="deviceWrites"/> is false) write the buffer
    /// until the mapping is disposed; the buffer cannot be freed before that.</summary>
    /// <exception cref="VfioException">A no-IOMMU container (DMA mapping is impossible there), or the kernel refused.</exception>
    public DmaMapping MapDma(DmaBuffer buffer, ulong? iova = null, bool deviceWrites = true)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        RequireIommu("VFIO_IOMMU_MAP_DMA");
        var info = GetIommuInfo();
        _iova ??= new IovaAllocator(info.IovaRanges);
        var length = (ulong)buffer.Length;
        var address = iova ?? _iova.Allocate(length, Math.Max(info.MinimumPageSize, (ulong)Environment.SystemPageSize));
        var map = new vfio_iommu_type1_dma_map
        {
            argsz = Structs.Size<vfio_iommu_type1_dma_map>(),
            flags = (uint)(VfioUapi.VFIO_DMA_MAP_FLAG_READ | (deviceWrites ? VfioUapi.VFIO_DMA_MAP_FLAG_WRITE : 0)),
            vaddr = (ulong)buffer.Address,
            iova = address,
            size = length,
        };
        var result = _sys.Ioctl(_fd.Fd, VfioUapi.VFIO_IOMMU_MAP_DMA, Structs.Bytes(ref map));
        if (result < 0)
        {
            if (iova is null)
            {
                _iova.Free(address, length);
            }

            throw new VfioException("VFIO_IOMMU_MAP_DMA", $"IOVA 0x{address:x}+0x{length:x}", -result, ErrnoHints.For(KernelCall.MapDmaType1, -result));
        }

        buffer.AddMapping();
        var mapping = new DmaMapping(this, buffer, address, allocated: iova is null);
        _mappings.Add(mapping);
        return mapping;
    }

    /// <summary>Unmaps every buffer mapped in this container in one call: <c>VFIO_IOMMU_UNMAP_DMA</c> with
    /// <c>VFIO_DMA_UNMAP_FLAG_ALL</c> where the kernel offers it (the <c>VFIO_UNMAP_ALL</c> extension, Linux
    /// 5.12), else one unmap per mapping. Every <see cref="DmaMapping"/> of the container is unmapped
    /// afterwards (<see cref="DmaMapping.IsUnmapped"/>; disposing it does nothing more) and its buffer can be
    /// freed.</summary>
    /// <returns>The bytes the kernel says it unmapped (0 when nothing was mapped).</returns>
    /// <exception cref="VfioException">A no-IOMMU container, or the kernel refused: the mappings are kept as
    /// they were (listed, buffers not freed).</exception>
    public ulong UnmapAllDma()
    {
        RequireIommu("VFIO_IOMMU_UNMAP_DMA");
        if (!CheckExtension((uint)VfioUapi.VFIO_UNMAP_ALL))
        {
            ulong total = 0;
            foreach (var mapping in _mappings.ToArray())
            {
                mapping.Dispose(); // throws, leaving the rest mapped, if the kernel refuses one
                total += (ulong)mapping.Length;
            }

            return total;
        }

        // The flag wants IOVA 0 and size 0; the kernel writes back the bytes it unmapped.
        var unmap = new vfio_iommu_type1_dma_unmap
        {
            argsz = Structs.Size<vfio_iommu_type1_dma_unmap>(),
            flags = (uint)VfioUapi.VFIO_DMA_UNMAP_FLAG_ALL,
        };
        var result = _sys.Ioctl(_fd.Fd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, Structs.Bytes(ref unmap));
        if (result < 0)
        {
            throw new VfioException("VFIO_IOMMU_UNMAP_DMA(FLAG_ALL)", Options.ContainerPath, -result,
                "Every mapping is kept (IOVAs reserved, buffers not freed); closing the container drops them.");
        }

        // The container maps nothing any more: every mapping the library knows is gone.
        foreach (var mapping in _mappings.ToArray())
        {
            ForgetUnmapped(mapping);
        }

        return unmap.size;
    }

    private void ForgetUnmapped(DmaMapping mapping)
    {
        _mappings.Remove(mapping);
        if (mapping.Allocated)
        {
            _iova?.Free(mapping.Iova, (ulong)mapping.Length);
        }

        mapping.MarkUnmapped();
        mapping.Buffer.RemoveMapping();
    }

    void IDmaUnmapper.UnmapDma(DmaMapping mapping) => UnmapDma(mapping);

    internal void UnmapDma(DmaMapping mapping)
    {
        if (_fd.IsClosed)
        {
            // Closing the container already dropped every mapping.
            _mappings.Remove(mapping);
            mapping.Buffer.RemoveMapping();
            return;
        }

        var unmap = new vfio_iommu_type1_dma_unmap { argsz = Structs.Size<vfio_iommu_type1_dma_unmap>(), iova = mapping.Iova, size = (ulong)mapping.Length };
        var result = _sys.Ioctl(_fd.Fd, VfioUapi.VFIO_IOMMU_UNMAP_DMA, Structs.Bytes(ref unmap));
        if (result < 0)
        {
            // The kernel still maps the buffer at that IOVA and the device can still reach it: keep the
            // mapping listed, its IOVA reserved and the buffer's memory, so nothing else lands there.
            throw new VfioException("VFIO_IOMMU_UNMAP_DMA", $"{Options.ContainerPath}, IOVA 0x{mapping.Iova:x}+0x{mapping.Length:x}", -result,
                "The mapping is kept (IOVA reserved, buffer not freed): dispose it again to retry; closing the container drops it.");
        }

        // The kernel writes back how much it unmapped. Less than the mapping means part of the buffer may
        // still be reachable by the device, so the buffer must not be freed as if it were unmapped.
        var unmapped = unmap.size;
        if (unmapped < (ulong)mapping.Length)
        {
            throw new VfioException("VFIO_IOMMU_UNMAP_DMA", $"{Options.ContainerPath}, IOVA 0x{mapping.Iova:x}+0x{mapping.Length:x}", Errno.EIO,
                $"The kernel unmapped 0x{unmapped:x} of 0x{mapping.Length:x} bytes: the mapping is kept (buffer not freed); closing the container drops it.");
        }

        _mappings.Remove(mapping);
        if (mapping.Allocated)
        {
            _iova?.Free(mapping.Iova, (ulong)mapping.Length);
        }

        mapping.Buffer.RemoveMapping();
    }

    private void RequireIommu(string operation)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        switch (IommuType)
        {
            case VfioIommuType.None:
                throw new VfioException(operation, Options.ContainerPath, Errno.EINVAL, "Attach a group first: the container picks its IOMMU back-end then.");
            case VfioIommuType.NoIommu:
                throw new VfioException(operation, Options.ContainerPath, Errno.EPERM,
                    "DMA mapping is unavailable in no-IOMMU mode: there is no IOMMU to translate device addresses. VfioDevice.PhysicalDmaSpace gives the device physical addresses of huge-page buffers instead.");
        }
    }

    private void SetIommu(bool noIommu, string groupPath)
    {
        VfioIommuType type;
        if (noIommu)
        {
            // A no-IOMMU group needs the no-IOMMU back-end even where type1 reports as supported.
            type = VfioIommuType.NoIommu;
        }
        else if (Options.IommuType is { } wanted)
        {
            if (wanted is not (VfioIommuType.Type1 or VfioIommuType.Type1v2))
            {
                throw new VfioException("VFIO_SET_IOMMU", groupPath, Errno.EINVAL, $"VfioContainerOptions.IommuType must be Type1 or Type1v2 for an IOMMU-backed group, not {wanted}.");
            }

            if (!CheckExtension((uint)wanted))
            {
                throw new VfioException("VFIO_CHECK_EXTENSION", Options.ContainerPath, Errno.ENODEV, $"The kernel does not offer the {wanted} IOMMU back-end that VfioContainerOptions.IommuType asks for.");
            }

            type = wanted;
        }
        else if (CheckExtension(VfioUapi.VFIO_TYPE1v2_IOMMU))
        {
            type = VfioIommuType.Type1v2;
        }
        else if (CheckExtension(VfioUapi.VFIO_TYPE1_IOMMU))
        {
            type = VfioIommuType.Type1;
        }
        else
        {
            throw new VfioException("VFIO_CHECK_EXTENSION", Options.ContainerPath, Errno.ENODEV, "The kernel offers no type1 IOMMU back-end (is vfio_iommu_type1 loaded?).");
        }

        var result = _sys.Ioctl(_fd.Fd, VfioUapi.VFIO_SET_IOMMU, (nuint)type);
        if (result < 0)
        {
            throw new VfioException($"VFIO_SET_IOMMU({type})", groupPath, -result,
                noIommu ? "Boot with vfio.enable_unsafe_noiommu_mode=1 for no-IOMMU groups." : null);
        }

        IommuType = type;
    }

    /// <summary>Unmaps DMA, closes every group (and their devices), then the container.</summary>
    public void Dispose()
    {
        foreach (var mapping in _mappings.ToArray())
        {
            try
            {
                mapping.Dispose();
            }
            catch (VfioException)
            {
                // Closing the container drops the mapping anyway.
            }
        }

        foreach (var group in _groups.ToArray())
        {
            group.Dispose();
        }

        _fd.Dispose();

        // A mapping the kernel refused to unmap above is gone with the container now: dispose it again
        // (the closed path) so its buffer's memory is freed, not kept for a mapping nobody holds.
        foreach (var mapping in _mappings.ToArray())
        {
            mapping.Dispose();
        }
    }
}
