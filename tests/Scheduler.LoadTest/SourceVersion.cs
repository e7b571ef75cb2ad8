namespace Scheduler.LoadTest;

using System.Diagnostics;

/// <summary>The commit the measured code was built from (the repository around the current directory), if git can tell.</summary>
internal static class SourceVersion
{
    /// <summary>Short commit id, with "+changes" when <c>src/</c> has uncommitted changes; null without git.</summary>
    public static string? Describe()
    {
        var commit = Git("rev-parse --short HEAD");
        if (commit is null) return null;
        return Git("status --porcelain -- src") is { Length: > 0 } ? commit + "+changes" : commit;
    }

    private static string? Git(string arguments)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (git is null) return null;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
