using Scheduler.Gateway.Hosting;

// The registrations (options and endpoints, auth, telemetry, the Orleans client, the gRPC API) are in SchedulerGateway.
SchedulerGateway.Build(args).Run();
