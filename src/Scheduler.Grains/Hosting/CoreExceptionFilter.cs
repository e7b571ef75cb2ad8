namespace Scheduler.Grains.Hosting;

using Scheduler.Core.Lifecycle;

/// <summary>
/// The core throws plain .NET exceptions and knows nothing of Orleans serialization; this filter gives the ones that
/// cross a grain boundary their serializable wire form, in one place.
/// </summary>
internal sealed class CoreExceptionFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (InvalidJobTransitionException ex)
        {
            throw new JobTransitionException(ex.Message);
        }
    }
}
