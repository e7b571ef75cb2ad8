namespace Scheduler.Scenarios.Data;

using System.IO.Compression;
using System.Text;

/// <summary>Opens data files as UTF-8 text; a <c>.gz</c> name is decompressed on the fly, so originals and reduced copies read alike.</summary>
public static class DataFile
{
    public static TextReader OpenText(string path)
    {
        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            stream = new GZipStream(stream, CompressionMode.Decompress);
        return new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
    }

    /// <summary>All non-empty lines of a file (trailing newline optional).</summary>
    public static List<string> ReadLines(string path)
    {
        using var reader = OpenText(path);
        return ReadLines(reader);
    }

    public static List<string> ReadLines(TextReader reader)
    {
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) lines.Add(line);
        return lines;
    }
}
