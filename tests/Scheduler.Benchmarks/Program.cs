using BenchmarkDotNet.Running;
using Scheduler.Benchmarks;

// Sanity check first (host process only): the fleet must make the dispatcher place, relocate, pause and resume.
// `--sanity` prints it and exits; `--breakdown` also prints a Stopwatch split of one round and exits.
FleetSanity.Run(Console.Out);
if (args.Contains("--sanity")) return;
if (args.Contains("--breakdown"))
{
    Breakdown.Run(Console.Out);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
