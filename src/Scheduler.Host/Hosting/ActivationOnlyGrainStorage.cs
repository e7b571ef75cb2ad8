namespace Scheduler.Host.Hosting;

using Orleans.Storage;

/// <summary>
/// Grain "storage" for replay mode: state lives only in the grain activations and writes cost nothing. A replay is
/// recomputed from its inputs, never recovered, and Orleans' in-memory provider would still serialize every write
/// (the dispatcher's job catalogue grows with every job, so that cost grows quadratically). Activations must then
/// outlive the replay: replay mode sets a collection age far beyond any replay's length.
/// </summary>
internal sealed class ActivationOnlyGrainStorage : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Nothing is ever stored: every activation starts from its state's defaults.
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
