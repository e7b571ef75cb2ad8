namespace Scheduler.Cluster.Tests.Infrastructure;

/// <summary>The dotnet executable that runs the tests, to start child processes (a writer, silos) with.</summary>
internal static class DotnetHost
{
    public static string Path { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } process && System.IO.Path.GetFileNameWithoutExtension(process) == "dotnet" ? process
        : "dotnet";
}
