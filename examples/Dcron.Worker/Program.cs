// A worker service running cron tasks on a Dcron cluster. appsettings.json (or the environment, e.g.
// Dcron__Registry=Redis Dcron__Redis__Configuration=redis:6379) chooses the registry; with none configured it runs
// on the in-memory registry, a cluster of this one process. Start several copies against one server and every
// occurrence still runs once.
using DistributedCron.Hosting;
using DistributedCron.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(args);
var worker = builder.Configuration.GetSection("Worker");

builder.Services.AddScoped<ReportContext>();
builder.Services.AddDcron(dcron => dcron
    .UseConfiguredRegistry(builder.Configuration)
    .UseDynamicTaskHandler<GreetingHandler>()
    .AddCronTask<ReportTask>("report", worker["ReportCron"] ?? "*/10 * * * * *")
    .AddCronTask("heartbeat", worker["HeartbeatCron"] ?? "*/5 * * * * *", (services, run) =>
    {
        services.GetRequiredService<ILogger<Program>>().LogInformation(
            "heartbeat {ScheduledAt:HH:mm:ss} on {NodeId} (fencing token {Token})", run.ScheduledAt, run.NodeId, run.FencingToken);
        return Task.CompletedTask;
    }));
builder.Services.AddHostedService<GreetingSeeder>();
builder.Services.AddHealthChecks().AddDcron();

await builder.Build().RunAsync();
