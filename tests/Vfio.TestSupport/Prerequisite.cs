using Xunit;

namespace Vfio.TestSupport;

/// <summary>Tests that need something from the machine (gcc, libclang, kernel headers, QEMU) call
/// <see cref="Require"/>. On a developer's machine a missing prerequisite skips the test and says how
/// to install it; under <c>CI=true</c> it fails, because installing it is .ci/run's job.</summary>
public static class Prerequisite
{
    /// <summary>True when running in CI (the CI environment variable is "true").</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or, in CI, fails) the current test unless <paramref name="present"/>.</summary>
    public static void Require(bool present, string what)
    {
        if (present)
        {
            return;
        }

        if (InCi)
        {
            Assert.Fail($"CI=true and a prerequisite is missing: {what}. .ci/run must install it.");
        }

        Assert.Skip($"prerequisite missing: {what}");
    }
}
