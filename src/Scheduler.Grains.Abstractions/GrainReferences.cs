namespace Scheduler.Grains;

/// <summary>Grain references by string key, without Orleans' per-call type resolution.</summary>
/// <remarks>
/// <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c> resolves the interface's grain interface type and grain type on every
/// call, by reflection (custom attributes, type names), and does not cache it: about 9 µs a reference here. Job
/// creation makes about five per job; a tick at 10,000 jobs made about 1,300, in turns of the dispatcher that prompt
/// decisions wait behind (docs/performance.md). Both types depend only on the interface, so they are resolved once per
/// interface, through Orleans itself, and the reference is then made from them directly
/// (<see cref="IGrainFactory.GetGrain(GrainId, GrainInterfaceType)"/>, which Orleans caches). The string overload of
/// <c>GetGrain</c> is banned in <c>src</c> (<c>src/BannedSymbols.txt</c>), so this is the one way to make one.
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
#pragma warning disable RS0030 // the one call that resolves, once per interface
        var reference = (GrainReference)(object)grains.GetGrain<T>("-");
#pragma warning restore RS0030
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
