// Which types the young collections keep: each allocation the runtime samples (AllocationTick, about one per 100 KB,
// with the object's address and type) is looked for in the ranges of objects the next collection kept in place or
// moved (GCBulkSurvivingObjectRanges, GCBulkMovedObjectRanges). A sample found in one survived; its 100 KB or so then
// counts as kept for its type. The trace needs the runtime's GC keyword at Verbose level and the
// GCHeapSurvivalAndMovement keyword: "Microsoft-Windows-DotNETRuntime:0x400001:5".
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

if (args.Length is < 1 or > 2 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: GcSurvivors TRACE.nettrace [TOP_TYPES=30]");
    return 2;
}
var top = args.Length > 1 && int.TryParse(args[1], out var n) && n > 0 ? n : 30;

var sinceLast = new List<Sample>(); // sampled since the last collection began
Sample[] inCollection = []; // sorted by address
bool[] kept = [];
var byType = new Dictionary<string, Tally>(StringComparer.Ordinal);
var collections = new SortedDictionary<string, int>(StringComparer.Ordinal);
// A background collection runs beside the program for seconds, and young collections run within it: only the
// blocking collections' ranges are read, each while it runs.
var blocking = false;

using var source = new EventPipeEventSource(args[0]);
source.Clr.GCAllocationTick += e =>
{
    // Large objects are allocated in an older generation: only the small ones are young.
    if (e.AllocationKind == GCAllocationKind.Small) sinceLast.Add(new Sample(e.Address, e.TypeName ?? "?", e.AllocationAmount64));
};
source.Clr.GCStart += e =>
{
    var background = e.Type == GCType.BackgroundGC;
    var kind = background ? "gen2 background" : $"gen{e.Depth}";
    collections[kind] = collections.GetValueOrDefault(kind) + 1;
    if (background) return; // its samples wait for the next blocking collection
    blocking = true;
    inCollection = [.. sinceLast.OrderBy(s => s.Address)];
    kept = new bool[inCollection.Length];
    sinceLast.Clear();
};
source.Clr.GCBulkSurvivingObjectRanges += e =>
{
    for (var i = 0; i < e.Count; i++) MarkKept(e.Values(i).RangeBase, e.Values(i).RangeLength);
};
source.Clr.GCBulkMovedObjectRanges += e =>
{
    for (var i = 0; i < e.Count; i++) MarkKept(e.Values(i).OldRangeBase, e.Values(i).RangeLength);
};
source.Clr.GCStop += _ =>
{
    if (!blocking) return; // a background collection's end
    blocking = false;
    for (var i = 0; i < inCollection.Length; i++)
    {
        var s = inCollection[i];
        byType[s.Type] = byType.GetValueOrDefault(s.Type).Add(s.Bytes, kept[i]);
    }
    inCollection = [];
};
source.Process();

var allocated = byType.Values.Sum(t => t.Bytes);
var survived = byType.Values.Sum(t => t.KeptBytes);
var count = collections.Where(c => !c.Key.EndsWith("background", StringComparison.Ordinal)).Sum(c => c.Value);
Console.WriteLine($"collections: {string.Join(", ", collections.Select(c => $"{c.Key} {c.Value}"))}; read: the {count} blocking ones");
Console.WriteLine($"sampled {allocated / 1e6:F0} MB allocated; kept {survived / 1e6:F1} MB ({100.0 * survived / Math.Max(1, allocated):F1} %), "
    + $"{survived / 1e6 / Math.Max(1, count):F1} MB a collection");
Console.WriteLine($"{"type",-80} {"alloc MB",9} {"kept MB",8} {"kept %",7} {"of kept",8}");
foreach (var (type, t) in byType.OrderByDescending(kv => kv.Value.KeptBytes).Take(top))
    Console.WriteLine($"{(type.Length > 80 ? "…" + type[^79..] : type),-80} {t.Bytes / 1e6,9:F1} {t.KeptBytes / 1e6,8:F1} "
        + $"{100.0 * t.Kept / t.Samples,7:F1} {100.0 * t.KeptBytes / Math.Max(1, survived),8:F1}");
return 0;

void MarkKept(ulong start, ulong length)
{
    if (!blocking) return;
    // The first sample at or after start, then every one inside the range.
    int lo = 0, hi = inCollection.Length;
    while (lo < hi)
    {
        var mid = (lo + hi) / 2;
        if (inCollection[mid].Address < start) lo = mid + 1; else hi = mid;
    }
    for (var i = lo; i < inCollection.Length && inCollection[i].Address < start + length; i++) kept[i] = true;
}

internal readonly record struct Sample(ulong Address, string Type, long Bytes);

internal readonly record struct Tally(long Samples, long Kept, long Bytes, long KeptBytes)
{
    public Tally Add(long bytes, bool kept) => new(Samples + 1, Kept + (kept ? 1 : 0), Bytes + bytes, KeptBytes + (kept ? bytes : 0));
}
