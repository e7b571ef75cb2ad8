// The example workload for site agents (docs/agents.md). It does N steps of measurable work: each step hashes the
// previous state with the step number (SHA-256), so the final state proves every step ran exactly once and in order.
//
//   dotnet StepWorkload.dll [--steps N] [--step-ms MS]
//
// Contract, as the agent sets it up:
//   SCHEDULER_RESTORE_FROM   if set, a directory with state.json ({"step": k, "state": "hex"}): resume after step k.
//   SCHEDULER_CHECKPOINT_DIR where to write state.json when asked to stop.
//   SIGTERM                  finish the step in hand, write the checkpoint, exit 75.
// Output: "step K STATE" per step, "SCHEDULER_PROGRESS K N" after each, "done N STATE" at the end (exit 0).
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

const int ExitCheckpointed = 75;
var steps = Option("--steps", 100);
var stepMilliseconds = Option("--step-ms", 50);

var done = 0;
var state = new byte[32]; // the state before step 1: 32 zero bytes
if (Environment.GetEnvironmentVariable("SCHEDULER_RESTORE_FROM") is { Length: > 0 } restore)
{
    var saved = JsonSerializer.Deserialize<Checkpoint>(File.ReadAllText(Path.Combine(restore, "state.json")))
        ?? throw new InvalidDataException("empty checkpoint");
    done = saved.Step;
    state = Convert.FromHexString(saved.State);
    Console.WriteLine($"restored step {done} {saved.State}");
}

// SIGTERM only sets a flag: the step in hand completes and is counted, then the checkpoint holds exactly the steps done.
var stopRequested = 0;
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    Interlocked.Exchange(ref stopRequested, 1);
});

while (done < steps && Volatile.Read(ref stopRequested) == 0)
{
    Thread.Sleep(stepMilliseconds); // stands for the real work of a step
    var step = done + 1;
    state = SHA256.HashData([.. state, .. Encoding.ASCII.GetBytes(step.ToString(CultureInfo.InvariantCulture))]);
    done = step;
    Console.WriteLine($"step {step} {Convert.ToHexStringLower(state)}");
    Console.WriteLine($"SCHEDULER_PROGRESS {done} {steps}");
}

if (done >= steps)
{
    Console.WriteLine($"done {done} {Convert.ToHexStringLower(state)}");
    return 0;
}

var directory = Environment.GetEnvironmentVariable("SCHEDULER_CHECKPOINT_DIR")
    ?? throw new InvalidOperationException("SCHEDULER_CHECKPOINT_DIR is not set: nowhere to checkpoint");
var temporary = Path.Combine(directory, "state.json.tmp");
File.WriteAllText(temporary, JsonSerializer.Serialize(new Checkpoint(done, Convert.ToHexStringLower(state))));
File.Move(temporary, Path.Combine(directory, "state.json"), overwrite: true); // whole or not at all
Console.WriteLine($"checkpoint {done}");
return ExitCheckpointed;

static int Option(string name, int fallback)
{
    var args = Environment.GetCommandLineArgs();
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}

internal sealed record Checkpoint(int Step, string State);
