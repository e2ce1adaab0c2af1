using System.Globalization;
using System.Text;

namespace Vfio.Check;

/// <summary>Everything vfio-check found about one device.</summary>
/// <param name="Device">The device's sysfs name.</param>
/// <param name="Bus">pci, platform or amba.</param>
/// <param name="Driver">Its driver (a VFIO one, or the check would not have started).</param>
/// <param name="IommuGroup">Its IOMMU group number.</param>
/// <param name="Iommu">The back-end the device was opened through (<c>type1v2</c>, <c>iommufd</c>, <c>noiommu</c>), or null when it did not open.</param>
/// <param name="Cases">The cases, in the order they ran.</param>
internal sealed record CheckReport(string Device, string Bus, string Driver, int IommuGroup, string? Iommu, IReadOnlyList<CheckCase> Cases)
{
    public int Passed => Cases.Count(c => c.Result == CheckCase.Pass);

    public int Failed => Cases.Count(c => c.Result == CheckCase.Fail);

    public int Skipped => Cases.Count(c => c.Result == CheckCase.Skip);

    /// <summary>The report as a table: one row per case, the fix under a failed one.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"vfio-check {Device}: {Bus}, {Driver}, IOMMU group {IommuGroup}, opened through {Iommu ?? "nothing (it did not open)"}\n\n");
        var idWidth = Math.Max(4, Cases.Max(c => c.Id.Length));
        var titleWidth = Math.Max(4, Cases.Max(c => c.Title.Length));
        text.Append(CultureInfo.InvariantCulture, $"{"CASE".PadRight(idWidth)}  {"WHAT".PadRight(titleWidth)}  RESULT  DETAIL\n");
        foreach (var c in Cases)
        {
            var detail = c.Errno is null || c.Detail.Contains(c.Errno, StringComparison.Ordinal) ? c.Detail : $"{c.Errno}: {c.Detail}";
            text.Append(CultureInfo.InvariantCulture, $"{c.Id.PadRight(idWidth)}  {c.Title.PadRight(titleWidth)}  {c.Result,-6}  {detail}\n");
            if (c.Fix is not null)
            {
                text.Append(CultureInfo.InvariantCulture, $"{"".PadRight(idWidth + titleWidth + 12)}fix: {c.Fix}\n");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"\n{Passed} passed, {Failed} failed, {Skipped} skipped\n");
        return text.ToString();
    }
}
