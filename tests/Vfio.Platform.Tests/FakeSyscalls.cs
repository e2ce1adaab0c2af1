using Vfio.Native;
using Vfio.Platform.Kernel;

namespace Vfio.Platform.Tests;

/// <summary>How the fake answers an ioctl whose argument is a struct: read it, fill it, return what the
/// kernel would (a negative errno to fail).</summary>
internal delegate int IoctlAnswer(Span<byte> argument);

/// <summary>The same for an ioctl whose argument holds the address of a second buffer
/// (<c>IOMMU_IOAS_IOVA_RANGES</c>): the fake is handed that buffer as a span.</summary>
internal delegate int IoctlBufferAnswer(Span<byte> argument, Span<byte> buffer);

/// <summary>One call the fake received: the call's name ("open", "close", "ioctl", "mmap", "eventfd", ...),
/// the descriptor, and what else the call carried (an ioctl's request and integer argument, a path, mmap's
/// length in <see cref="Value"/> and its protection, flags and offset).</summary>
internal readonly record struct SyscallRecord(string Name, int Fd, uint Request = 0, nuint Value = 0, string? Path = null, int Protection = 0, int Flags = 0, long Offset = 0);

/// <summary>The syscall seam for tests, written by hand (it replaced an NSubstitute proxy, which cannot see
/// or fill the spans the seam takes). Every call is recorded in order (<see cref="Calls"/>); answers are
/// programmed per path, descriptor and request, and the newest programming that fits a call wins, so a test
/// overrides what its fixture set up. What nobody programmed answers as a kernel that agrees to everything:
/// an ioctl returns 0 and leaves its argument as it was, close returns 0; an open of a path nobody set up
/// fails with ENOENT, and the calls no test has needed yet fail with ENOSYS.</summary>
internal sealed class FakeSyscalls : ISyscalls
{
    private readonly Lock _lock = new();
    private readonly List<SyscallRecord> _calls = [];
    private readonly List<(string Path, Func<int> Answer)> _opens = [];
    private readonly List<IoctlRule> _ioctls = [];
    private Func<int, int> _close = _ => 0;
    private Func<int> _eventFd = () => -Errno.ENOSYS;
    private Func<nuint, int, int, int, long, nint> _mmap = (_, _, _, _, _) => -Errno.ENOSYS;
    private Func<nint, nuint, int> _munmap = (_, _) => 0;
    private Func<int> _memfdCreate = () => -Errno.ENOSYS;
    private Func<int, long, int> _ftruncate = (_, _) => -Errno.ENOSYS;

    /// <summary>False to stop recording (a test that counts allocations).</summary>
    public bool Recording { get; set; } = true;

    /// <summary>The calls received so far, oldest first.</summary>
    public IReadOnlyList<SyscallRecord> Calls
    {
        get
        {
            lock (_lock)
            {
                return [.. _calls];
            }
        }
    }

    public void OnOpen(string path, int result) => OnOpen(path, () => result);

    public void OnOpen(string path, Func<int> answer) => Add(_opens, (path, answer));

    public void OnClose(Func<int, int> answer) => _close = answer;

    public void OnEventFd(Func<int> answer) => _eventFd = answer;

    public void OnMmap(Func<nuint, int, int, int, long, nint> answer) => _mmap = answer;

    public void OnMunmap(Func<nint, nuint, int> answer) => _munmap = answer;

    public void OnMemfdCreate(Func<int> answer) => _memfdCreate = answer;

    public void OnFtruncate(Func<int, long, int> answer) => _ftruncate = answer;

    /// <summary>Request <paramref name="request"/> on <paramref name="fd"/> returns <paramref name="result"/>,
    /// whatever its argument, and leaves the argument as it was.</summary>
    public void OnIoctl(int fd, uint request, int result) => Add(_ioctls, new IoctlRule(fd, request) { Result = result });

    public void OnIoctl(int fd, uint request, IoctlAnswer answer) => Add(_ioctls, new IoctlRule(fd, request) { Struct = answer });

    public void OnIoctl(int fd, uint request, IoctlBufferAnswer answer) => Add(_ioctls, new IoctlRule(fd, request) { WithBuffer = answer });

    /// <summary>An ioctl whose argument is an integer, answered by what that integer is.</summary>
    public void OnIoctlValue(int fd, uint request, Func<nuint, int> answer) => Add(_ioctls, new IoctlRule(fd, request) { Integer = answer });

    /// <summary>An ioctl with this integer argument returns <paramref name="result"/>.</summary>
    public void OnIoctlValue(int fd, uint request, nuint value, int result) => Add(_ioctls, new IoctlRule(fd, request) { Value = value, Result = result });

    /// <summary>How many ioctls of <paramref name="request"/> on <paramref name="fd"/> were made (with integer
    /// argument <paramref name="value"/>, when given).</summary>
    public int IoctlCount(int fd, uint request, nuint? value = null) =>
        Calls.Count(c => c.Name == "ioctl" && c.Fd == fd && c.Request == request && (value is null || c.Value == value));

    public int OpenCount(string path) => Calls.Count(c => c.Name == "open" && c.Path == path);

    public int Open(string path, int flags)
    {
        Record(new SyscallRecord("open", -1, Path: path, Flags: flags));
        Func<int>? answer = null;
        lock (_lock)
        {
            for (var i = _opens.Count - 1; i >= 0 && answer is null; i--)
            {
                answer = _opens[i].Path == path ? _opens[i].Answer : null;
            }
        }

        return answer is null ? -Errno.ENOENT : answer();
    }

    public int Close(int fd)
    {
        Record(new SyscallRecord("close", fd));
        return _close(fd);
    }

    public int Ioctl(int fd, uint request, nuint argument)
    {
        Record(new SyscallRecord("ioctl", fd, request, argument));
        var rule = Find(fd, request, r => r.Integer is not null || (r.Result is not null && (r.Value is null || r.Value == argument)));
        return rule is null ? 0 : rule.Integer?.Invoke(argument) ?? rule.Result!.Value;
    }

    public int Ioctl(int fd, uint request, Span<byte> argument)
    {
        Record(new SyscallRecord("ioctl", fd, request));
        var rule = Find(fd, request, r => r.Struct is not null || (r.Result is not null && r.Value is null));
        return rule is null ? 0 : rule.Struct?.Invoke(argument) ?? rule.Result!.Value;
    }

    public int Ioctl(int fd, uint request, Span<byte> argument, int addressOffset, Span<byte> buffer)
    {
        Record(new SyscallRecord("ioctl", fd, request));
        var rule = Find(fd, request, r => r.WithBuffer is not null || (r.Result is not null && r.Value is null));
        return rule is null ? 0 : rule.WithBuffer?.Invoke(argument, buffer) ?? rule.Result!.Value;
    }

    public nint Mmap(nuint length, int protection, int flags, int fd, long offset)
    {
        Record(new SyscallRecord("mmap", fd, Value: length, Protection: protection, Flags: flags, Offset: offset));
        return _mmap(length, protection, flags, fd, offset);
    }

    public int Munmap(nint address, nuint length)
    {
        Record(new SyscallRecord("munmap", -1, Value: length));
        return _munmap(address, length);
    }

    public int EventFd(uint initialValue, int flags)
    {
        Record(new SyscallRecord("eventfd", -1, Value: initialValue, Flags: flags));
        return _eventFd();
    }

    public int MemfdCreate(string name, uint flags)
    {
        Record(new SyscallRecord("memfd_create", -1, Path: name, Flags: (int)flags));
        return _memfdCreate();
    }

    public int Ftruncate(int fd, long length)
    {
        Record(new SyscallRecord("ftruncate", fd, Offset: length));
        return _ftruncate(fd, length);
    }

    public nint ReadNonBlocking(int fd, Span<byte> buffer) => Unprogrammed("read", fd);

    public nint Write(int fd, ReadOnlySpan<byte> buffer) => Unprogrammed("write", fd);

    public nint Pread(int fd, Span<byte> buffer, long offset) => Unprogrammed("pread", fd);

    public nint Pwrite(int fd, ReadOnlySpan<byte> buffer, long offset) => Unprogrammed("pwrite", fd);

    public int Poll(Span<pollfd> fds, int timeoutMilliseconds) => (int)Unprogrammed("poll", -1);

    private nint Unprogrammed(string name, int fd)
    {
        Record(new SyscallRecord(name, fd));
        return -Errno.ENOSYS;
    }

    private void Record(SyscallRecord call)
    {
        if (!Recording)
        {
            return;
        }

        lock (_lock)
        {
            _calls.Add(call);
        }
    }

    private void Add<T>(List<T> list, T item)
    {
        lock (_lock)
        {
            list.Add(item);
        }
    }

    private IoctlRule? Find(int fd, uint request, Func<IoctlRule, bool> fits)
    {
        lock (_lock)
        {
            for (var i = _ioctls.Count - 1; i >= 0; i--)
            {
                var rule = _ioctls[i];
                if (rule.Fd == fd && rule.Request == request && fits(rule))
                {
                    return rule;
                }
            }
        }

        return null;
    }

    private sealed record IoctlRule(int Fd, uint Request)
    {
        public nuint? Value { get; init; }

        public int? Result { get; init; }

        public IoctlAnswer? Struct { get; init; }

        public IoctlBufferAnswer? WithBuffer { get; init; }

        public Func<nuint, int>? Integer { get; init; }
    }
}
