namespace Scheduler.LoadTest;

/// <summary>What the load plants report: each a fraction of its nameplate, by plant and round (one round a second when paced).</summary>
internal delegate double Weather(LoadPlant plant, int round);

internal static class Weathers
{
    /// <summary>
    /// Every plant on its own slow wave, between 20 and 90 % of nameplate. A site's supply (its plants' sum, 150 MW on
    /// average) stays far above its load (under 10 MW): no site is ever short.
    /// </summary>
    public static readonly Weather Waves = (plant, round) => 0.55 + 0.35 * Math.Sin(round * 0.05 + plant.Index);
}

/// <summary>
/// The waves (<see cref="Weathers.Waves"/>) and, once started, a weather front that darkens one more site every
/// <c>everyRounds</c> rounds for <see cref="Rounds"/>: its plants fall to <see cref="Fraction"/> of nameplate in one
/// sample, then come back. Fronts move from a site to the one 37 places on, so the sites beside a dark one, where its
/// jobs can move, are lit. The falls tell the dispatcher of a deficit, the returns of a rise: decisions that telemetry
/// triggers.
/// </summary>
internal sealed class Fronts(int sites, int everyRounds)
{
    /// <summary>How long a front stays over its site, in rounds.</summary>
    public const int Rounds = 30;

    /// <summary>What a front leaves of a plant's output: its site's supply falls to about 3 MW, below its load.</summary>
    public const double Fraction = 0.01;

    /// <summary>The round of the first front; int.MaxValue until started. The telemetry streams read it as it is set.</summary>
    private volatile int _from = int.MaxValue;

    /// <summary>The first front comes at this round (none before: the jobs are placed in steady weather).</summary>
    public void StartAt(int round) => _from = round;

    public double Output(LoadPlant plant, int round)
    {
        var from = _from;
        if (round >= from)
            for (var front = (round - from) / everyRounds; front >= 0 && round - from - front * everyRounds < Rounds; front--)
                if (front * 37 % sites == plant.SiteIndex) return Fraction;
        return Weathers.Waves(plant, round);
    }
}
