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

    /// <summary>How long a front stays over its site, in rounds.</summary>
    public const int FrontRounds = 30;

    /// <summary>What a front leaves of a plant's output: its site's supply falls to about 3 MW, below its load.</summary>
    public const double FrontFraction = 0.01;

    /// <summary>
    /// The waves, and a weather front that darkens one more site every <paramref name="everyRounds"/> rounds for
    /// <see cref="FrontRounds"/>: its plants fall to <see cref="FrontFraction"/> of nameplate in one sample, then come
    /// back. Fronts move from a site to the one 37 places on, so the sites beside a dark one, where its jobs can move,
    /// are lit. The falls tell the dispatcher of a deficit, the returns of a rise: decisions that telemetry triggers.
    /// </summary>
    public static Weather Fronts(int sites, int everyRounds) => (plant, round) =>
    {
        for (var front = round / everyRounds; front >= 0 && round - front * everyRounds < FrontRounds; front--)
            if (front * 37 % sites == plant.SiteIndex) return FrontFraction;
        return Waves(plant, round);
    };
}
