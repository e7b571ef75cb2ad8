namespace Scheduler.Agent;

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

/// <summary>
/// Checkpoints in a directory every site's agent can reach. Publishing copies a job's checkpoint directory under a
/// fresh reference and writes a manifest (every file's size and SHA-256) last, then renames the whole into place, so
/// a reference that exists is complete. Fetching copies a checkpoint to a site's local disk, verifying every file;
/// a fetch broken off half-way resumes: files already verified are kept, a file cut short is continued from where it
/// stopped, and anything that does not verify is copied again.
/// </summary>
public sealed partial class CheckpointStore(string root)
{
    public const string ManifestName = "manifest.json";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>One file of a checkpoint.</summary>
    public sealed record ManifestFile(string Path, long Bytes, string Sha256);

    public sealed record Manifest(string Reference, string JobId, long Epoch, IReadOnlyList<ManifestFile> Files)
    {
        public long TotalBytes => Files.Sum(f => f.Bytes);
    }

    /// <summary>What one fetch did: bytes copied (less than the total when it resumed) and files already in place.</summary>
    public sealed record FetchResult(string Directory, long BytesCopied, int FilesReused);

    /// <summary>Publishes <paramref name="source"/> as the checkpoint of a job at an epoch. Returns its manifest and the manifest's SHA-256.</summary>
    public async Task<(Manifest Manifest, string ManifestSha256)> PublishAsync(string jobId, long epoch, string source, CancellationToken cancellation)
    {
        var reference = $"{jobId}/e{epoch}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var final = PathOf(reference);
        var staging = final + ".partial";
        Directory.CreateDirectory(staging);
        var files = new List<ManifestFile>();
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(source, file);
            var target = Path.Combine(staging, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            files.Add(new ManifestFile(relative.Replace('\\', '/'), new FileInfo(target).Length, await HashAsync(target, cancellation)));
        }
        var manifest = new Manifest(reference, jobId, epoch, files);
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest);
        await File.WriteAllBytesAsync(Path.Combine(staging, ManifestName), json, cancellation);
        Directory.Move(staging, final); // the reference appears complete, or not at all
        return (manifest, Convert.ToHexStringLower(SHA256.HashData(json)));
    }

    /// <summary>Copies a checkpoint into <paramref name="destination"/>, verified; resumes a fetch broken off before.</summary>
    public async Task<FetchResult> FetchAsync(string reference, string destination, CancellationToken cancellation)
    {
        var source = PathOf(reference);
        var manifest = JsonSerializer.Deserialize<Manifest>(await File.ReadAllBytesAsync(Path.Combine(source, ManifestName), cancellation))
            ?? throw new InvalidDataException($"checkpoint {reference}: empty manifest");
        long copied = 0;
        var reused = 0;
        foreach (var file in manifest.Files)
        {
            if (file.Path.Split('/').Any(p => p is ".." or "") || Path.IsPathRooted(file.Path))
                throw new InvalidDataException($"checkpoint {reference}: bad path '{file.Path}' in its manifest");
            var from = Path.Combine(source, file.Path);
            var to = Path.Combine(destination, file.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            var have = File.Exists(to) ? new FileInfo(to).Length : 0;
            if (have == file.Bytes && await HashAsync(to, cancellation) == file.Sha256) { reused++; continue; }
            // Continue a file cut short; start over one that is longer than it should be.
            if (have > file.Bytes) have = 0;
            copied += await CopyFromAsync(from, to, have, cancellation);
            if (await HashAsync(to, cancellation) != file.Sha256)
            {
                // What was there was not a prefix of the file after all: copy it whole, once.
                copied += await CopyFromAsync(from, to, 0, cancellation);
                if (await HashAsync(to, cancellation) != file.Sha256)
                    throw new InvalidDataException($"checkpoint {reference}: {file.Path} does not match its checksum");
            }
        }
        return new FetchResult(destination, copied, reused);
    }

    /// <summary>Whether a reference is one this store hands out (job id / epoch-suffix): nothing can escape the root.</summary>
    public static bool IsReference(string reference) => ReferencePattern().IsMatch(reference) && !reference.Contains("..", StringComparison.Ordinal);

    private string PathOf(string reference)
    {
        if (!IsReference(reference)) throw new ArgumentException($"not a checkpoint reference: '{reference}'", nameof(reference));
        return Path.Combine(Root, reference);
    }

    private static async Task<long> CopyFromAsync(string from, string to, long offset, CancellationToken cancellation)
    {
        await using var input = File.OpenRead(from);
        await using var output = new FileStream(to, offset == 0 ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.Write);
        input.Seek(offset, SeekOrigin.Begin);
        output.SetLength(offset);
        output.Seek(offset, SeekOrigin.Begin);
        await input.CopyToAsync(output, cancellation);
        return input.Length - offset;
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellation)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellation));
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}/[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex ReferencePattern();
}
