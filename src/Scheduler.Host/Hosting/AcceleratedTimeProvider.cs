namespace Scheduler.Host.Hosting;

using System.Globalization;

/// <summary>
/// A clock that runs <c>speed</c> times faster than real time, for the demo. It resumes where it stopped: its
/// position is saved in a file, so a restart never moves scheduler time backwards (grains reject samples older than
/// ones they have seen). Timers still run on real time.
/// </summary>
public sealed class AcceleratedTimeProvider : TimeProvider
{
    private readonly DateTimeOffset _origin;
    private readonly long _startTimestamp;
    private readonly double _speed;
    private readonly string? _positionFile;

    public AcceleratedTimeProvider(double speed, string? positionFile)
    {
        _speed = speed;
        _positionFile = positionFile;
        var now = System.GetUtcNow();
        _origin = positionFile is not null && File.Exists(positionFile)
            && DateTimeOffset.TryParse(File.ReadAllText(positionFile), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var saved) && saved > now
            ? saved : now;
        _startTimestamp = System.GetTimestamp();
    }

    public override DateTimeOffset GetUtcNow() =>
        _origin + TimeSpan.FromTicks((long)(System.GetElapsedTime(_startTimestamp).Ticks * _speed));

    /// <summary>Writes the current position, so the next start resumes from it.</summary>
    public void Save()
    {
        if (_positionFile is null) return;
        var temp = _positionFile + ".tmp";
        File.WriteAllText(temp, GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
        File.Move(temp, _positionFile, overwrite: true);
    }
}
