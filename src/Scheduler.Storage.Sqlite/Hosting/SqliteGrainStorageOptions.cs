namespace Scheduler.Storage.Sqlite.Hosting;

/// <summary>Settings of the SQLite grain storage.</summary>
public sealed class SqliteGrainStorageOptions
{
    /// <summary>Path of the database file; its directory is created if missing. Required.</summary>
    public string DatabasePath { get; set; } = "";

    /// <summary>
    /// SQLite <c>synchronous</c> setting. With the write-ahead log, NORMAL keeps every committed write across a killed
    /// process (only a power cut may lose the last transactions); FULL also survives power loss, slower. Default: NORMAL.
    /// </summary>
    public string Synchronous { get; set; } = "NORMAL";

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DatabasePath)) errors.Add("DatabasePath: required");
        if (Synchronous is not ("NORMAL" or "FULL" or "EXTRA")) errors.Add($"Synchronous: one of NORMAL, FULL, EXTRA; was '{Synchronous}'");
        return errors;
    }
}
