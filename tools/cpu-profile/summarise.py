"""Reads `perf script` output (samples with call stacks) on stdin; prints the share of samples by part of the system
and the methods most often on the stack. A sample counts toward the first part, in the order below, whose pattern any
frame of its stack matches (the bench's meter listeners run on the server's threads, inside its frames)."""
import collections
import re
import sys

PARTS = [
    ("thread pool: idle workers spinning", r"LowLevelLifoSemaphore|LowLevelSpinWaiter"),
    # Kestrel uses System.Net.Http's header codecs too: only the client's own connection types count here.
    ("load tool (client, and its in-process meter listeners)",
     r"Scheduler\.LoadTest|Grpc\.Net\.Client|System\.Net\.Http\.(SocketsHttpHandler|Http2Connection|HttpConnection)"),
    ("grains", r"Scheduler\.Grains"),
    ("gRPC API and Kestrel", r"Scheduler\.Api|Grpc\.AspNetCore|Microsoft\.AspNetCore"),
    ("storage", r"Scheduler\.Storage|libe_sqlite3|SQLitePCL"),
    ("Orleans runtime", r"Orleans"),
    ("OpenTelemetry", r"OpenTelemetry"),
    ("thread pool: dispatch", r"ThreadPoolWorkQueue|PortableThreadPool"),
    ("sockets", r"SocketAsyncEngine|System\.Net\.Sockets"),
    ("garbage collector", r"WKS::|SVR::|gc_heap|GCHeap"),
]
COMPILED = [(name, re.compile(pattern)) for name, pattern in PARTS]


def frame_name(line):
    # "    7f12 instance void [Lib] Ns.Type::Method()[OptimizedTier1]+0x1f (/tmp/perf-1.map)" -> the method
    text = line.strip().split(" ", 1)[-1]
    text = re.sub(r" \([^)]*\)$", "", text)
    text = re.sub(r"\+0x[0-9a-f]+$", "", text)
    return re.sub(r"\[[^\]]*\] ", "", text)


def samples(lines):
    stack = []
    for line in lines:
        if not line.strip():
            if stack:
                yield stack
            stack = []
        elif line[0] in " \t":
            stack.append(frame_name(line))
    if stack:
        yield stack


def main():
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    parts = collections.Counter()
    methods = collections.Counter()
    total = 0
    for stack in samples(sys.stdin):
        total += 1
        text = "\n".join(stack)
        parts[next((name for name, rx in COMPILED if rx.search(text)), "other (kernel, runtime, unresolved)")] += 1
        for name in set(stack):
            if "Scheduler." in name:
                methods[name] += 1
    if total == 0:
        print("no samples")
        return
    print(f"{total} samples")
    for name, count in parts.most_common():
        print(f"{100 * count / total:6.1f} %  {name}")
    print(f"\nScheduler methods on the stack (inclusive), top {top}:")
    for name, count in methods.most_common(top):
        print(f"{100 * count / total:6.1f} %  {name[:140]}")


if __name__ == "__main__":
    main()
