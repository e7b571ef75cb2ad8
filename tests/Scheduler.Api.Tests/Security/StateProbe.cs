namespace Scheduler.Api.Tests.Security;

using Google.Protobuf;
using Scheduler.Api.V1;

/// <summary>
/// Everything a call could change, read through the public API as an operator: the fleet (sites with their power
/// balance, plant outputs and running jobs; plants; links) and every job. Equal snapshots mean nothing changed.
/// </summary>
internal static class StateProbe
{
    public static async Task<string> TakeAsync(SchedulerHost host)
    {
        var fleet = await new FleetService.FleetServiceClient(host.Channel).GetFleetAsync(new GetFleetRequest());
        var jobs = new JobService.JobServiceClient(host.Channel);
        var text = new System.Text.StringBuilder(JsonFormatter.Default.Format(fleet));
        var token = "";
        do
        {
            var page = await jobs.ListJobsAsync(new ListJobsRequest { PageSize = 1000, PageToken = token });
            foreach (var job in page.Jobs) text.Append(JsonFormatter.Default.Format(job));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return text.ToString();
    }
}
