namespace Vfio.Check;

/// <summary>One case of the check and what came of it.</summary>
/// <param name="Id">A stable name scripts can look for: <c>region.0</c>, <c>trigger.1</c>, <c>dma.4k</c>.</param>
/// <param name="Title">What the case is about, for people: <c>BAR0</c>, <c>MSI</c>.</param>
/// <param name="Result"><c>pass</c>, <c>fail</c> or <c>skip</c>.</param>
/// <param name="Detail">What was found, or why it was skipped.</param>
/// <param name="Errno">The errno name of the kernel's (or the library's) refusal, when there is one.</param>
/// <param name="Fix">What to do about a failure.</param>
internal sealed record CheckCase(string Id, string Title, string Result, string Detail, string? Errno = null, string? Fix = null)
{
    public const string Pass = "pass", Fail = "fail", Skip = "skip";
}
