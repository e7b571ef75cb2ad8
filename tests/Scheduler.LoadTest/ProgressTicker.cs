namespace Scheduler.LoadTest;

using System.Diagnostics;

/// <summary>
/// Prints a progress line to stderr every second while a scenario runs (total so far and the last second's rate), and
/// keeps the per-second counts.
/// </summary>
internal sealed class ProgressTicker : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<long> _perSecond = [];

    public ProgressTicker(string label, Func<long> read, string unit, Func<string>? extra = null) =>
        _loop = LoopAsync(label, read, unit, extra ?? (() => ""));

    /// <summary>Count in each whole second since the start.</summary>
    public IReadOnlyList<long> PerSecond => _perSecond;

    private async Task LoopAsync(string label, Func<long> read, string unit, Func<string> extra)
    {
        var started = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long previous = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var now = read();
                _perSecond.Add(now - previous);
                Console.Error.WriteLine($"  [{label}] {Stopwatch.GetElapsedTime(started).TotalSeconds,5:0}s  {now,9:N0} {unit}  last second {now - previous,8:N0}/s  {extra()}");
                previous = now;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
