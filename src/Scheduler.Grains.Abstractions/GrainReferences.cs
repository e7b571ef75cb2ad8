namespace Scheduler.Grains;

/// <summary>Grain references by string key, without Orleans' per-call type resolution.</summary>
/// <remarks>
/// <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c> resolves the interface's grain interface type and grain type on every
/// call, by reflection (custom attributes, type names), and does not cache it: about 2 % of the CPU and 2.6 % of the
/// allocations of job creation, which makes three such references per request. Both types depend only on the
/// interface, so they are resolved once per interface, through Orleans itself, and the reference is then made from
/// them directly (<see cref="IGrainFactory.GetGrain(GrainId, GrainInterfaceType)"/>, which Orleans caches).
/// </remarks>
public static class GrainReferences
{
    public static T Get<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        var types = Types<T>.Resolved ??= Resolve<T>(grains);
        return (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
    }

    private static ResolvedTypes Resolve<T>(IGrainFactory grains) where T : IGrainWithStringKey
    {
        var reference = (GrainReference)(object)grains.GetGrain<T>("-");
        return new ResolvedTypes(reference.GrainId.Type, reference.InterfaceType);
    }

    // A class, so that a reader on another thread sees either nothing or the whole pair; two first callers may both
    // resolve it, to the same values.
    private sealed record ResolvedTypes(GrainType Grain, GrainInterfaceType Interface);

    private static class Types<T>
    {
        public static ResolvedTypes? Resolved;
    }
}
