using Scheduler.Agent;

return await AgentCommandLine.Build().Parse(args).InvokeAsync();
