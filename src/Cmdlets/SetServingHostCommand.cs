using System.Collections;
using System.Globalization;
using System.Management.Automation;

namespace Serving.Cmdlets;

/// <summary>
/// <para type="synopsis">Scales a running serving host: more or fewer API workers or runner workers, with no failed request.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "ServingHost", SupportsShouldProcess = true, DefaultParameterSetName = OnlyLiveHostSet)]
[OutputType(typeof(HostInfo))]
public sealed class SetServingHostCommand : HostTargetCommandBase
{
    /// <summary>The number of API workers to run.</summary>
    [Parameter][ValidateRange(1, ServingHost.MaxWorkers)] public int? ApiWorkers { get; set; }

    /// <summary>Worker counts by runner name, e.g. @{ classifier = 3 }.</summary>
    [Parameter][ValidateNotNullOrEmpty] public Hashtable? RunnerWorkers { get; set; }

    /// <summary>Seconds a removed worker may drain before it is killed. Default 30.</summary>
    [Parameter][ValidateRange(0, 3600)] public int Timeout { get; set; } = 30;

    /// <summary>Write each scaled host's state.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    private Dictionary<string, int>? _runners;

    protected override void BeginProcessing()
    {
        if (ApiWorkers is null && RunnerWorkers is null)
            ThrowTerminatingError(ErrorRecords.From(ErrorIds.HostNotScalable, ErrorCategory.InvalidArgument,
                "Nothing to change: give -ApiWorkers N, -RunnerWorkers @{ runner = N }, or both.", null));
        if (RunnerWorkers is null) return;
        _runners = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in RunnerWorkers)
        {
            var name = entry.Key?.ToString() ?? "";
            var value = entry.Value is PSObject p ? p.BaseObject : entry.Value;
            int count;
            try
            {
                count = Convert.ToInt32(value, CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
            {
                ThrowTerminatingError(ErrorRecords.From(ErrorIds.HostNotScalable, ErrorCategory.InvalidArgument,
                    $"-RunnerWorkers: the count for runner '{name}' must be a whole number; got '{value}'.", RunnerWorkers));
                return;
            }
            _runners[name] = count;
        }
    }

    protected override void ProcessRecord()
    {
        var change = string.Join(", ", new[]
        {
            ApiWorkers is { } api ? $"{api} API workers" : null,
            _runners is null ? null : string.Join(", ", _runners.Select(r => $"runner '{r.Key}' to {r.Value} workers")),
        }.Where(s => s is not null));
        foreach (var host in SelectHosts())
        {
            if (!ShouldProcess($"{host.Name} ({host.Url})", $"Scale to {change}")) continue;
            var drain = TimeSpan.FromSeconds(Timeout);
            if (RunWithProgress(host, $"Scaling serving host '{host.Name}'", progress => host.ScaleAsync(ApiWorkers, _runners, drain, progress)) && PassThru)
                WriteObject(HostSnapshots.Take(host, JobRepository));
        }
    }
}
