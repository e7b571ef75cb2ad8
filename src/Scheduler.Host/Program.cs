using Scheduler.Host.Hosting;

// The registrations (host options and endpoints, telemetry, silo, gRPC API, the built-in fleet) are in SchedulerApp.
SchedulerApp.Build(args).Run();
