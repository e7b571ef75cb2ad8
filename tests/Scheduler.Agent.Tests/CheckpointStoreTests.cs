namespace Scheduler.Agent.Tests;

/// <summary>The shared-directory checkpoint store: complete or absent, verified, and a broken fetch resumes.</summary>
public sealed class CheckpointStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "agent-store-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private string Source()
    {
        var source = Path.Combine(_root, "source");
        Directory.CreateDirectory(Path.Combine(source, "shards"));
        File.WriteAllBytes(Path.Combine(source, "state.json"), [.. Enumerable.Range(0, 1000).Select(i => (byte)i)]);
        File.WriteAllBytes(Path.Combine(source, "shards", "0.bin"), [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 7))]);
        File.WriteAllBytes(Path.Combine(source, "shards", "1.bin"), [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 13))]);
        return source;
    }

    [Fact]
    public async Task Fetch_AfterABrokenTransfer_CopiesOnlyWhatIsMissingOrWrong_AndVerifiesEveryFile()
    {
        var store = new CheckpointStore(Path.Combine(_root, "store"));
        var source = Source();
        var (manifest, sha) = await store.PublishAsync("job-1", 4, source, CancellationToken.None);
        Assert.Equal(9000, manifest.TotalBytes);
        Assert.Matches("^job-1/e4-[0-9a-f]{8}$", manifest.Reference);
        Assert.Equal(64, sha.Length);

        var destination = Path.Combine(_root, "site-b");
        var first = await store.FetchAsync(manifest.Reference, destination, CancellationToken.None);
        Assert.Equal((9000L, 0), (first.BytesCopied, first.FilesReused));

        // The transfer breaks: one file cut short half-way, another corrupted, the third intact.
        var cut = Path.Combine(destination, "shards", "0.bin");
        using (var f = new FileStream(cut, FileMode.Open)) f.SetLength(2000);
        var corrupt = Path.Combine(destination, "shards", "1.bin");
        var bytes = File.ReadAllBytes(corrupt);
        bytes[10] ^= 0xFF;
        File.WriteAllBytes(corrupt, bytes);

        var resumed = await store.FetchAsync(manifest.Reference, destination, CancellationToken.None);

        // 3000 bytes to finish the cut file; the corrupted one, same length, is copied whole once its hash fails.
        Assert.Equal((3000L + 3000L, 1), (resumed.BytesCopied, resumed.FilesReused));
        foreach (var file in new[] { "state.json", "shards/0.bin", "shards/1.bin" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, file)), File.ReadAllBytes(Path.Combine(destination, file)));
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("job/../../x")]
    [InlineData("/abs/path")]
    [InlineData("job")]
    public async Task Fetch_RefusesAReferenceOutsideTheStore(string reference)
    {
        var store = new CheckpointStore(Path.Combine(_root, "store"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.FetchAsync(reference, Path.Combine(_root, "out"), CancellationToken.None));
    }
}
