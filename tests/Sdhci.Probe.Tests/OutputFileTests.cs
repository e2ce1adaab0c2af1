using Sdhci.Probe.Commands;
using Xunit;

namespace Sdhci.Probe.Tests;

/// <summary>read --out: a new 0600 file, never through a symlink, replaced only with --force, removed again unless the read completed.</summary>
public class OutputFileTests
{
    private readonly string _directory = CardCommandKit.TempDirectory();

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void A_new_file_is_created_with_mode_0600_and_kept_on_commit()
    {
        var path = PathOf("new.bin");
        using (var file = OutputFile.Create(path, force: false))
        {
            file.Write([1, 2, 3]);
            file.Commit();
        }

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dev_null_is_taken_as_it_is_and_never_removed_or_replaced(bool commit)
    {
        var file = OutputFile.Create("/dev/null", force: false);
        file.Write(new byte[4096]);
        if (commit)
            file.Commit();

        Assert.Null(file.Discard()); // nothing to remove: the program did not create it
        Assert.Equal(4096, file.Length);
        Assert.True(File.Exists("/dev/null"));
        Assert.Equal(0, new FileInfo("/dev/null").Length);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/full")]
    public void Other_device_nodes_stay_refused(string node)
    {
        var error = Assert.Throws<ArgumentException>(() => OutputFile.Create(node, force: true));

        Assert.Contains("refused even with --force", error.Message, StringComparison.Ordinal);
        Assert.Contains(node, error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(node));
    }

    [Fact]
    public void An_existing_file_is_refused_without_force_and_left_alone()
    {
        var path = PathOf("old.bin");
        File.WriteAllText(path, "keep me");

        var error = Assert.Throws<ArgumentException>(() => OutputFile.Create(path, force: false));

        Assert.Contains("exists; pass --force", error.Message, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(path));
        Assert.Equal(ExitCodes.Usage, CommonOptions.Describe(error).Code);
    }

    [Fact]
    public void Force_replaces_a_regular_file_with_a_new_0600_one()
    {
        var path = PathOf("old.bin");
        File.WriteAllText(path, "old contents, longer than the new");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        using (var file = OutputFile.Create(path, force: true))
        {
            file.Write([9]);
            file.Commit();
        }

        Assert.Equal([9], File.ReadAllBytes(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_symlink_is_refused_even_with_force_and_its_target_is_untouched(bool force)
    {
        var target = PathOf("target.bin");
        File.WriteAllText(target, "precious");
        var link = PathOf("link.bin");
        File.CreateSymbolicLink(link, target);

        var error = Assert.Throws<ArgumentException>(() => OutputFile.Create(link, force));

        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(target));
        Assert.NotNull(new FileInfo(link).LinkTarget);
    }

    [Fact]
    public void A_dangling_symlink_is_refused_and_nothing_is_created_where_it_points()
    {
        var target = PathOf("nowhere.bin");
        var link = PathOf("dangling.bin");
        File.CreateSymbolicLink(link, target);

        Assert.Throws<ArgumentException>(() => OutputFile.Create(link, force: true));

        Assert.False(File.Exists(target));
    }

    [Fact]
    public void An_empty_existing_name_is_not_replaced_even_with_force_since_it_may_be_a_device()
    {
        var path = PathOf("empty");
        File.WriteAllBytes(path, []);

        var error = Assert.Throws<ArgumentException>(() => OutputFile.Create(path, force: true));

        Assert.Contains("device node", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void A_directory_is_refused()
    {
        Assert.Throws<ArgumentException>(() => OutputFile.Create(_directory, force: true));
        Assert.True(Directory.Exists(_directory));
    }

    [Fact]
    public void A_file_that_cannot_be_created_is_a_file_error_naming_it()
    {
        var path = PathOf("no-such-directory/out.bin");

        var error = Assert.Throws<IOException>(() => OutputFile.Create(path, force: false));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failed, CommonOptions.Describe(error).Code);
    }

    [Fact]
    public void Discard_removes_the_partial_file_and_says_so()
    {
        var path = PathOf("partial.bin");
        var file = OutputFile.Create(path, force: false);
        file.Write(new byte[1024]);

        var note = file.Discard();

        Assert.False(File.Exists(path));
        Assert.Equal($"; the partial {path} (1024 bytes) was removed", note);
        Assert.Null(file.Discard());
    }

    [Fact]
    public void A_committed_file_is_not_discarded()
    {
        var path = PathOf("done.bin");
        var file = OutputFile.Create(path, force: false);
        file.Write([1]);
        file.Commit();

        Assert.Null(file.Discard());
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void In_files_must_be_whole_blocks()
    {
        var path = PathOf("ragged.bin");
        File.WriteAllBytes(path, new byte[700]);

        var error = Assert.Throws<ArgumentException>(() => InputFile.Open(path));

        Assert.Contains("700 bytes, not a whole number of 512-byte blocks", error.Message, StringComparison.Ordinal);
        Assert.Throws<IOException>(() => InputFile.Open(PathOf("missing.bin")));
    }

    [Fact]
    public void An_in_file_that_shrinks_fails_naming_it()
    {
        var path = PathOf("shrinks.bin");
        File.WriteAllBytes(path, new byte[1024]);
        using var input = InputFile.Open(path);
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            RandomAccess.SetLength(handle, 100);

        var error = Assert.Throws<IOException>(() => input.Read(new byte[1024]));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
