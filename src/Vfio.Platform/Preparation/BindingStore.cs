using System.Globalization;
using System.Text.Json;
using Vfio.Native;

namespace Vfio.Platform.Preparation;

/// <summary>The binding records of one state directory (<c>/run/vfio-net</c>): one file per device,
/// written atomically (a temporary file, then rename) with mode 0600 in a 0700 directory. The records are
/// our own files, read and written with System.IO; a process's start time comes from procfs through
/// <paramref name="sysfs"/>.</summary>
/// <param name="directory">The state directory.</param>
/// <param name="sysfs">The procfs (and sysfs) the owners are looked up in.</param>
internal sealed class BindingStore(string directory, ISysfs sysfs)
{
    public string Directory { get; } = directory;

    public string PathOf(string device) => Path.Combine(Directory, device + ".json");

    public BindingRecord? Read(string device)
    {
        var path = PathOf(device);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            throw new VfioException("read binding record", device, Errno.EACCES,
                $"{path} is root's (0600): changing driver bindings, giving a device back included, needs root.");
        }
        catch (IOException e)
        {
            throw new VfioException("read binding record", device, Errno.EIO, $"{path}: {e.Message}");
        }

        try
        {
            return JsonSerializer.Deserialize(text, BindingRecordJson.Default.BindingRecord)
                ?? throw new JsonException("empty record");
        }
        catch (JsonException e)
        {
            throw new VfioException("read binding record", device, Errno.EINVAL,
                $"{path} is not a binding record ({e.Message}); check the device by hand, then delete the file.");
        }
    }

    /// <summary>Every record in the directory (none when it does not exist).</summary>
    public IReadOnlyList<BindingRecord> All()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        return System.IO.Directory.EnumerateFiles(Directory, "*.json")
            .Select(f => Read(Path.GetFileNameWithoutExtension(f)))
            .OfType<BindingRecord>()
            .OrderBy(r => r.Device, StringComparer.Ordinal)
            .ToList();
    }

    public void Write(BindingRecord record)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("VFIO is Linux's.");
        }

        try
        {
            System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var path = PathOf(record.Device);
            var temp = $"{path}.{Environment.ProcessId}.tmp";
            var options = new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            using (var stream = new FileStream(temp, options))
            {
                JsonSerializer.Serialize(stream, record, BindingRecordJson.Default.BindingRecord);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VfioException("write binding record", record.Device, e is UnauthorizedAccessException ? Errno.EACCES : Errno.EIO,
                $"Nothing was changed: the record of what a binding changes must be written first ({Directory}: {e.Message}). Changing driver bindings needs root.");
        }
    }

    public void Delete(string device) => File.Delete(PathOf(device));

    /// <summary>True while the process that wrote <paramref name="record"/> runs (same pid, same start time).</summary>
    public bool OwnerAlive(BindingRecord record)
    {
        var start = record.Pid > 0 ? StartTime(record.Pid) : -1;
        return start >= 0 && start == record.PidStartTime;
    }

    /// <summary>A process's start time in clock ticks after boot (<c>/proc/PID/stat</c> field 22), or -1.</summary>
    public long StartTime(int pid)
    {
        var stat = sysfs.ReadText(Path.Combine(sysfs.ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "stat"));
        if (stat is null)
        {
            return -1;
        }

        // The command name (field 2) may hold spaces and parentheses: fields 3.. follow the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : -1;
    }
}
