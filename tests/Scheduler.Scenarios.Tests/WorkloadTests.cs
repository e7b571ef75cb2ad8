namespace Scheduler.Scenarios.Tests;

using Scheduler.Scenarios.Workload;

public sealed class WorkloadTests
{
    private static readonly DateTimeOffset Start = new(2013, 1, 1, 7, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset End = Start.AddDays(14);

    [Fact]
    public void Synthetic_SameSeed_GivesSameJobs()
    {
        var options = new SyntheticWorkloadOptions { Seed = 42, Count = 500 };
        Assert.Equal(SyntheticWorkload.Generate(options, Start, End), SyntheticWorkload.Generate(options, Start, End));
    }

    [Fact]
    public void Synthetic_OtherSeed_GivesOtherJobs()
    {
        var a = SyntheticWorkload.Generate(new SyntheticWorkloadOptions { Seed = 1, Count = 100 }, Start, End);
        var b = SyntheticWorkload.Generate(new SyntheticWorkloadOptions { Seed = 2, Count = 100 }, Start, End);
        Assert.NotEqual(a.Select(j => j.Arrival), b.Select(j => j.Arrival));
    }

    [Fact]
    public void Synthetic_JobsAreValidSortedAndFeasible()
    {
        var o = new SyntheticWorkloadOptions { Seed = 7, Count = 2000, DurationMaxHours = 200 };
        var jobs = SyntheticWorkload.Generate(o, Start, End);

        Assert.Equal(2000, jobs.Count);
        Assert.Equal(jobs.Count, jobs.Select(j => j.Id).Distinct().Count());
        Assert.Equal(ScenarioJobs.Sort(jobs), jobs);
        foreach (var j in jobs)
        {
            Assert.Empty(j.Validate());
            Assert.InRange(j.Arrival, Start, End.AddTicks(-1));
            Assert.True(j.Deadline <= End, $"{j.Id} deadline after the scenario end");
            Assert.True(j.Arrival + TimeSpan.FromHours(j.DurationHours) <= j.Deadline!.Value.AddSeconds(1), $"{j.Id} cannot finish in time");
            Assert.True(!j.Relocatable || j.Interruptible, $"{j.Id} relocatable but not interruptible");
            Assert.Contains(j.Gpus, o.GpuWeights.Select(w => w.Gpus));
        }
    }

    [Fact]
    public void Synthetic_DiurnalAmplitude_PeaksArrivalsAtThePeakHour()
    {
        var o = new SyntheticWorkloadOptions { Seed = 3, Count = 20_000, DiurnalAmplitude = 1, DiurnalPeakHour = 14, DiurnalClockUtcOffset = TimeSpan.FromHours(-7) };
        var jobs = SyntheticWorkload.Generate(o, Start, End);
        var clock = TimeSpan.FromHours(-7);
        int At(int hour) => jobs.Count(j => (j.Arrival.UtcDateTime + clock).Hour == hour);
        Assert.True(At(14) > 5 * At(2), $"14:00 {At(14)} vs 02:00 {At(2)}");
    }

    [Fact]
    public void FitToEnd_CutsDeadlineAndWork_AtTheScenarioEnd()
    {
        var job = new Scheduler.Core.Model.JobSpec("j", "t", 4, 40, End.AddHours(-5), End.AddHours(20), true, true, 10, []);
        var fitted = ScenarioJobs.FitToEnd(job, End);
        Assert.Equal(End, fitted.Deadline);
        Assert.Equal(20, fitted.WorkGpuHours, 9); // 4 GPUs x 5 hours left
    }

    private const string AzureSample =
        "TIMESTAMP,ContextTokens,GeneratedTokens\n" +
        "2023-11-16 18:00:00.0000000,1000,100\n" +
        "2023-11-16 18:00:30.5000000,2000,200\n" +
        "2023-11-16 18:01:00.0000000,3000,300";

    [Fact]
    public void AzureTrace_LoopsWithItsPeriod_InlineSample()
    {
        var trace = AzureLlmTrace.Parse(new StringReader(AzureSample), "inline.csv");

        Assert.Equal(3, trace.Requests);
        Assert.Equal(90, trace.PeriodSeconds, 9); // span 60 s plus one mean gap of 30 s
        Assert.Equal((1000.0, 100.0), trace.TokensBetween(0, 30));
        Assert.Equal((6000.0, 600.0), trace.TokensBetween(0, 90));
        Assert.Equal((12_000.0, 1200.0), trace.TokensBetween(45, 225)); // two full periods from any phase
    }

    [Fact]
    public void AzureInference_PinsOneJobPerStep_WithGpusCoveringTheTokens()
    {
        var trace = AzureLlmTrace.Parse(new StringReader(AzureSample), "inline.csv");
        var o = new AzureInferenceOptions { SiteId = "horinger", LoadScale = 100, GeneratedTokensPerGpuSecond = 10, PrefillCostRatio = 0.1 };
        var step = TimeSpan.FromMinutes(1);
        var jobs = AzureInference.ToPinnedJobs(trace, o, Start, step, 3);

        var first = jobs[0]; // requests at 0 s and 30.5 s: 300 generated, 3000 context -> 600 work tokens x 100
        Assert.Equal("llm-horinger-00000", first.Id);
        Assert.Equal(100, first.Gpus); // 60,000 work tokens / (10 tokens/s x 60 s)
        Assert.Equal(["horinger"], first.AllowedSites);
        Assert.False(first.Interruptible);
        Assert.False(first.Relocatable);
        Assert.Equal(Start, first.Arrival);
        Assert.Equal(Start + step, first.Deadline);
        Assert.Equal(first.Gpus / 60.0, first.WorkGpuHours, 9);
        Assert.Equal(30_000 / first.WorkGpuHours, first.TokensPerGpuHour!.Value, 6);
        Assert.All(jobs, j => Assert.Empty(j.Validate()));
    }

    [Fact]
    public void AzureTrace_ReadsBundledCopy()
    {
        var trace = AzureLlmTrace.Read(TestData.Bundled("AzureLLMInferenceTrace_conv.csv.gz"));
        Assert.Equal(19_366, trace.Requests);
        Assert.InRange(trace.PeriodSeconds / 60, 58, 59);
        Assert.Equal(new DateTime(2023, 11, 16, 18, 15, 46, 680), trace.FirstRequest);
    }

    private const string PodSample =
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n" +
        "openb-pod-0000,12000,16384,1,1000,,LS,Running,0,7200,0\n" +
        "openb-pod-0001,6000,12288,8,1000,,BE,Succeeded,3600,5400,3600\n" +
        "openb-pod-0002,6000,12288,0,0,,BE,Running,3600,9000,3600\n" +
        "openb-pod-0003,6000,12288,1,460,,BE,Pending,3700,9000,\n" +
        "openb-pod-0004,6000,12288,2,1000,,Burstable,Failed,1999999,2000999,1999999\n";

    [Fact]
    public void AlibabaPods_MapToJobs_InlineSample()
    {
        var pods = AlibabaPodList.Parse(new StringReader(PodSample), "pods.csv");
        var jobs = AlibabaPodList.ToJobs(pods, new AlibabaWorkloadOptions { DeadlineSlack = 3 }, Start, End);

        Assert.Equal(5, pods.Count);
        Assert.Equal(["ali-openb-pod-0000", "ali-openb-pod-0001"], jobs.Select(j => j.Id)); // CPU-only, Pending and out-of-range pods dropped
        var ls = jobs[0];
        Assert.Equal(1, ls.Gpus);
        Assert.Equal(2, ls.WorkGpuHours, 9);
        Assert.Equal(Start.AddHours(6), ls.Deadline); // 3 x 2 h
        Assert.False(ls.Interruptible);
        var be = jobs[1];
        Assert.Equal(Start.AddHours(1), be.Arrival);
        Assert.Equal(8 * 0.5, be.WorkGpuHours, 9);
        Assert.True(be.Interruptible);
        Assert.True(be.Relocatable);
    }

    [Fact]
    public void AlibabaPods_TimeScale_CompressesTheTimeline()
    {
        var pods = AlibabaPodList.Parse(new StringReader(PodSample), "pods.csv");
        var jobs = AlibabaPodList.ToJobs(pods, new AlibabaWorkloadOptions { TimeScale = 0.5 }, Start, End);
        Assert.Equal(Start.AddMinutes(30), jobs.Single(j => j.Id.EndsWith("0001", StringComparison.Ordinal)).Arrival);
        Assert.Contains(jobs, j => j.Id.EndsWith("0004", StringComparison.Ordinal)); // 1,999,999 s x 0.5 = 11.6 days: now inside
    }

    [SkippableFact]
    public void AlibabaPodList_FullTrace_LoadsIntoAScenario()
    {
        // The pod list is research-only and never bundled: this test reads it from the shared data folder when present.
        var path = TestData.Shared("workload/openb_pod_list_default.csv");
        Skip.If(path is null, "openb_pod_list_default.csv (Alibaba, research-only licence, not bundled) is not in ../shared/data on this machine");
        var yaml = $"""
            name: alibaba-replay
            start: 2013-01-01T00:00:00Z
            days: 14
            sites:
              - id: a
                gpu_count: 64
                grid_import_limit_mw: 10
                temperature: {"{"} format: constant, celsius: 10 {"}"}
            workload:
              - kind: alibaba
                path: {path}
                time_scale: {14.0 / 150}
                deadline_slack: 3
            """;
        var s = ScenarioLoader.LoadYaml(yaml, AppContext.BaseDirectory);

        var pods = AlibabaPodList.Read(path);
        Assert.Equal(8152, pods.Count);
        Assert.InRange(s.Jobs.Count, 6000, 7100); // GPU pods that ran, compressed into two weeks
        Assert.Equal(ScenarioJobs.Sort(s.Jobs), s.Jobs);
        Assert.All(s.Jobs, j => Assert.Empty(j.Validate()));
        Assert.Contains(s.Jobs, j => j.Interruptible);
        Assert.Contains(s.Jobs, j => j.Gpus == 8);
    }
}
