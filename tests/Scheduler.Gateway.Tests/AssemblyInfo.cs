// Each test class runs its own Redis, silos and gateways: one at a time on a two-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
