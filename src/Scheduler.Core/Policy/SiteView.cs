namespace Scheduler.Core.Policy;

using Scheduler.Core.Model;

/// <summary>
/// The policy's working copy of one site during a round. Starts from the snapshot and is updated after every
/// decision, so later decisions in the same round see the GPUs and power already committed.
/// </summary>
public sealed class SiteView
{
    public SiteView(SiteSnapshot snapshot, int index)
    {
        Snapshot = snapshot;
        Index = index;
        Pue = snapshot.Spec.Cooling.PueAt(snapshot.OutsideCelsius);
        FreeGpus = snapshot.Available ? snapshot.Spec.GpuCount : 0;
        LoadMegawatts = snapshot.Spec.BaseLoadMegawatts * Pue;
        PeakSupplyMegawatts = snapshot.GreenSupplyMegawatts;
        foreach (var p in snapshot.Forecast) PeakSupplyMegawatts = Math.Max(PeakSupplyMegawatts, p.GreenSupplyMegawatts);
    }

    public SiteSnapshot Snapshot { get; }
    public SiteSpec Spec => Snapshot.Spec;
    public string Id => Snapshot.Spec.Id;
    public int Index { get; }

    /// <summary>PUE at the snapshot's outside temperature.</summary>
    public double Pue { get; }

    /// <summary>GPUs not held by a running or incoming job.</summary>
    public int FreeGpus { get; private set; }

    /// <summary>Facility load of base load plus running and incoming jobs, MW.</summary>
    public double LoadMegawatts { get; private set; }

    public double GreenSupplyMegawatts => Snapshot.GreenSupplyMegawatts;

    /// <summary>Green supply minus load, MW: positive is surplus, negative is deficit.</summary>
    public double HeadroomMegawatts => Snapshot.GreenSupplyMegawatts - LoadMegawatts;

    /// <summary>Facility power of a job of <paramref name="gpus"/> GPUs here, MW.</summary>
    public double JobPowerMegawatts(int gpus) => gpus * Spec.KilowattsPerGpu / 1000.0 * Pue;

    /// <summary>Usable battery energy above the minimum state of charge, MWh.</summary>
    public double BatteryAvailableMegawattHours =>
        Math.Max(0, Snapshot.StateOfChargeMegawattHours - Spec.Battery.MinEnergyMegawattHours);

    /// <summary>Discharge power the battery can sustain for <paramref name="hours"/>, MW.</summary>
    public double BatterySustainableMegawatts(double hours) =>
        Math.Min(Spec.Battery.MaxDischargeMegawatts, BatteryAvailableMegawattHours * Spec.Battery.DischargeEfficiency / hours);

    // Most jobs share the same horizon (the gain horizon), so the last mean is kept.
    private double _memoHours = double.NaN, _memoMean;

    /// <summary>Mean forecast green supply over [now, now + hours], MW; the current supply when no forecast point falls in it.</summary>
    public double MeanForecastSupplyMegawatts(DateTimeOffset now, double hours)
    {
        var forecast = Snapshot.Forecast;
        if (forecast.Count == 0) return GreenSupplyMegawatts;
        if (hours == _memoHours) return _memoMean;
        _memoMean = ComputeMean(forecast, now, hours);
        _memoHours = hours;
        return _memoMean;
    }

    /// <summary>
    /// The most green supply the site expects at any point from now to the end of its forecast, MW: an upper bound
    /// of any mean the scorers may compute, used to skip evaluations that cannot succeed.
    /// </summary>
    public double PeakSupplyMegawatts { get; }

    private double ComputeMean(IReadOnlyList<ForecastPoint> forecast, DateTimeOffset now, double hours)
    {
        var end = now + TimeSpan.FromHours(hours);
        double sum = 0;
        var n = 0;
        for (var i = 0; i < forecast.Count; i++)
        {
            var p = forecast[i];
            if (p.At < now) continue;
            if (p.At > end) break;
            sum += p.GreenSupplyMegawatts;
            n++;
        }
        return n == 0 ? GreenSupplyMegawatts : sum / n;
    }

    internal void Commit(int gpus, double megawatts)
    {
        FreeGpus -= gpus;
        LoadMegawatts += megawatts;
    }

    internal void Release(int gpus, double megawatts)
    {
        FreeGpus += gpus;
        LoadMegawatts -= megawatts;
    }
}
