namespace Scheduler.LoadTest;

/// <summary>
/// A percentile of each whole slice of a window. A window's p99 over some 1,600 decisions is its 16th-worst, so one
/// round of 30 decisions that meets a garbage collection sets it; the slices show whether a window's figure is one
/// such stretch or the whole window.
/// </summary>
public static class SlicePercentiles
{
    /// <param name="measurements">Values with when they came, from the window's start.</param>
    /// <param name="window">The window's length: only the slices it holds whole count; later values are left out.</param>
    /// <returns>One figure per whole slice, in time order; NaN for a slice with no values.</returns>
    public static double[] Of(IEnumerable<(TimeSpan At, double Value)> measurements, TimeSpan window, TimeSpan slice, double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(slice, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.Zero);
        var slices = new List<double>[(int)(window / slice)];
        for (var i = 0; i < slices.Length; i++) slices[i] = [];
        foreach (var (at, value) in measurements)
            if (at >= TimeSpan.Zero && (int)(at / slice) is var i && i < slices.Length) slices[i].Add(value);
        return [.. slices.Select(values => JobCreateScenario.Percentile([.. values.Order()], quantile))];
    }
}
