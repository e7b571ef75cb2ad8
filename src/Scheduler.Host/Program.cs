using Scheduler.Api.Hosting;
using Scheduler.Host.Demo;
using Scheduler.Host.Hosting;

var builder = WebApplication.CreateBuilder(SchedulerHostOptions.NormaliseArgs(args));
builder.AddSchedulerHost();
builder.AddSchedulerTelemetry();
builder.AddSchedulerSilo();
builder.Services.AddSchedulerApi();
builder.AddInnerMongoliaFleet();

var app = builder.Build();
app.MapSchedulerApi();
app.MapSchedulerHealth();
app.MapSchedulerMetrics();
app.Run();
