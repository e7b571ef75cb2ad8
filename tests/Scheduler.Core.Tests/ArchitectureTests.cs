namespace Scheduler.Core.Tests;

using Scheduler.Core.Policy;

public class ArchitectureTests
{
    [Theory]
    [InlineData("Orleans")]
    [InlineData("Microsoft.Orleans")]
    [InlineData("Grpc")]
    [InlineData("Google.Protobuf")]
    [InlineData("OpenTelemetry")]
    public void Core_ReferencesNoInfrastructure(string forbiddenPrefix)
    {
        var references = typeof(Dispatcher).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();

        Assert.NotEmpty(references);
        Assert.DoesNotContain(references, r => r.StartsWith(forbiddenPrefix, StringComparison.OrdinalIgnoreCase));
    }
}
