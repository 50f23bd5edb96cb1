using System.Collections.Concurrent;
using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>
/// Respawn timing on a fake clock (<see cref="HostOptions.Time"/>): backoff waits, their doubling,
/// the runner-down Retry-After and a stop's cancelling a pending respawn. The delays are long in real
/// time (tens of seconds), so only the fake clock can bring a respawn about within a test's polls. A
/// fake timer fires on the thread that advances the clock; the respawn then goes on asynchronously,
/// so effects after an Advance are polled for.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RespawnClockTests : IDisposable
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    private static readonly RespawnPolicy Policy = new()
    {
        InitialDelay = TimeSpan.FromSeconds(30),
        MaxDelay = TimeSpan.FromMinutes(2),
        StablePeriod = TimeSpan.FromMinutes(5),
        MaxFastCrashes = 10,
    };

    private readonly string _temp = Path.Combine("/tmp", "rct-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly FakeLauncher _launcher = new();
    private readonly FakeClock _clock = new();
    private readonly List<ServingHost> _hosts = new();
    private readonly ConcurrentQueue<string> _notes = new();

    public RespawnClockTests() => Directory.CreateDirectory(_temp);

    public void Dispose()
    {
        foreach (var h in _hosts) h.Dispose();
        Directory.Delete(_temp, recursive: true);
    }

    /// <summary>A started host (echo: 2 workers, classifier: 1, 2 API workers) on the fake clock, as SupervisorTests.NewHost builds one.</summary>
    private async Task<ServingHost> StartHost(RespawnPolicy? policy = null)
    {
        var platform = Facts.Info("Linux", temp: _temp, cpus: 2);
        var service = new ServiceDefinition
        {
            Name = "demo",
            Directory = "",
            Runners = new[]
            {
                new RunnerDefinition { Name = "echo", Type = "E", Workers = 2 },
                new RunnerDefinition { Name = "classifier", Type = "C", Workers = 1 },
            },
            Apis = Facts.Demo.Apis,
        };
        var plan = HostPlanner.Plan(platform, service, new PlanOptions
        {
            Port = 0, HostAddress = "127.0.0.1", ApiWorkers = 2, Respawn = RespawnChoice.Always,
        });
        var host = new ServingHost(plan, new HostOptions
        {
            Name = "t",
            StartTimeout = TimeSpan.FromSeconds(5),
            StopTimeout = TimeSpan.FromSeconds(5),
            RespawnPolicy = policy ?? Policy,
            ReadinessProbe = (_, _) => Task.FromResult(true),
            Time = _clock,
        }, _launcher, TestHostIds.Next());
        _hosts.Add(host);
        host.Log += e => { if (e.Stream == "supervisor") _notes.Enqueue(e.Message); };
        await host.StartAsync(null, CancellationToken.None);
        return host;
    }

    private static WorkerSlot Slot(ServingHost host, string name) => host.Workers.Single(w => w.Name == name);

    private int Starts(string name) => _launcher.Started.Count(p => p.Spec.Name == name);

    /// <summary>Crashes the worker's process and waits until its respawn waits on the fake clock; returns the delay it waits.</summary>
    private async Task<TimeSpan> Crash(ServingHost host, string name, int timers = 1)
    {
        _launcher.Live(name).Single().Exit(137);
        await Poll.Until(() => Slot(host, name).State == WorkerState.Backoff && _clock.ScheduledTimers == timers, $"{name} waiting in backoff");
        return Slot(host, name).RespawnDue - _clock.GetUtcNow().UtcDateTime;
    }

    private async Task Respawned(ServingHost host, string name, int starts) =>
        await Poll.Until(() => Starts(name) == starts && _launcher.Live(name).Length == 1 && Slot(host, name).State == WorkerState.Running,
            $"{name} respawned ({starts} starts)");

    [Fact]
    public async Task A_crashed_worker_is_respawned_when_its_backoff_has_passed_on_the_clock_and_not_before()
    {
        var host = await StartHost();
        var started = _launcher.Started.Count;

        Assert.Equal(Policy.InitialDelay, await Crash(host, "echo-1"));
        _clock.Advance(Policy.InitialDelay - Ms);
        // The timer did not fire: nothing can have started the worker, now or later.
        Assert.Equal(1, _clock.ScheduledTimers);
        Assert.Equal(WorkerState.Backoff, Slot(host, "echo-1").State);
        Assert.Equal(started, _launcher.Started.Count);

        _clock.Advance(Ms);
        await Respawned(host, "echo-1", 2);
        Assert.Equal(started + 1, _launcher.Started.Count);
        Assert.Equal(1, Slot(host, "echo-1").Restarts);
        Assert.Equal(0, _clock.ScheduledTimers);
    }

    [Fact]
    public async Task Successive_fast_crashes_double_the_delay_up_to_the_maximum()
    {
        var host = await StartHost();
        var delays = new List<TimeSpan>();
        for (var crash = 1; crash <= 4; crash++)
        {
            var delay = await Crash(host, "classifier-1");
            delays.Add(delay);
            _clock.Advance(delay);
            await Respawned(host, "classifier-1", crash + 1);
        }
        var expected = new[] { 30, 60, 120, 120 }.Select(s => TimeSpan.FromSeconds(s)).ToArray();
        Assert.Equal(expected, delays);
        // The supervisor says the same in its notes.
        await Poll.Until(() => _notes.Count(n => n.Contains(" respawning in ", StringComparison.Ordinal)) == 4, "four respawn notes");
        Assert.Equal(expected.Select(d => $"supervisor: classifier-1 respawning in {d.TotalMilliseconds:0} ms"),
            _notes.Where(n => n.Contains(" respawning in ", StringComparison.Ordinal)));
    }

    /// <summary>
    /// The stable-period rule as far as the respawn path decides it: uptime is measured in
    /// ServingHost.Starting.cs's Launch on the real clock, so a zero StablePeriod stands for a run that
    /// lasted long enough: each crash is then a first one and waits the initial delay (doubled otherwise,
    /// as above). <see cref="A_worker_that_ran_past_the_stable_period_on_the_clock_starts_over_at_the_initial_delay"/>
    /// takes the time from the fake clock instead.
    /// </summary>
    [Fact]
    public async Task A_worker_whose_run_reached_the_stable_period_starts_over_at_the_initial_delay()
    {
        var host = await StartHost(new RespawnPolicy
        {
            InitialDelay = Policy.InitialDelay, MaxDelay = Policy.MaxDelay, StablePeriod = TimeSpan.Zero, MaxFastCrashes = 2,
        });
        for (var crash = 1; crash <= 3; crash++)
        {
            Assert.Equal(Policy.InitialDelay, await Crash(host, "echo-2"));
            Assert.Equal(0, Slot(host, "echo-2").FastCrashes);
            _clock.Advance(Policy.InitialDelay);
            await Respawned(host, "echo-2", crash + 1);
        }
    }

    [Fact]
    public async Task A_worker_that_ran_past_the_stable_period_on_the_clock_starts_over_at_the_initial_delay()
    {
        var host = await StartHost();
        Assert.Equal(TimeSpan.FromSeconds(30), await Crash(host, "echo-1"));
        _clock.Advance(TimeSpan.FromSeconds(30));
        await Respawned(host, "echo-1", 2);
        Assert.Equal(TimeSpan.FromSeconds(60), await Crash(host, "echo-1"));
        _clock.Advance(TimeSpan.FromSeconds(60));
        await Respawned(host, "echo-1", 3);

        // Up for just under the stable period: still a fast crash, the delay doubles.
        _clock.Advance(Policy.StablePeriod - Ms);
        Assert.Equal(TimeSpan.FromSeconds(120), await Crash(host, "echo-1"));
        Assert.Equal(3, Slot(host, "echo-1").FastCrashes);
        _clock.Advance(TimeSpan.FromSeconds(120));
        await Respawned(host, "echo-1", 4);

        // Up for the stable period: the count starts over, and so does the delay.
        _clock.Advance(Policy.StablePeriod);
        Assert.Equal(Policy.InitialDelay, await Crash(host, "echo-1"));
        Assert.Equal(0, Slot(host, "echo-1").FastCrashes);
    }

    [Fact]
    public async Task Api_workers_are_told_to_retry_after_the_time_left_until_the_runners_respawn_plus_a_second()
    {
        var host = await StartHost();
        var api2 = _launcher.Live("api-2").Single();

        // api-1 waits until t = 30 s; the classifier's only worker crashes at t = 12.5 s and waits until 42.5 s.
        await Crash(host, "api-1");
        _clock.Advance(TimeSpan.FromSeconds(12.5));
        var said = api2.Received.Count;
        await Crash(host, "classifier-1", timers: 2);
        Assert.Equal("runner-down classifier 31 restarting",
            Assert.Single(api2.Received.Skip(said), l => l.StartsWith("runner-down ", StringComparison.Ordinal)));

        // At t = 30 s api-1 starts again and hears of the 12.5 s left: Retry-After 13.5 s, in whole seconds 14.
        _clock.Advance(TimeSpan.FromSeconds(17.5));
        await Respawned(host, "api-1", 2);
        var api1 = _launcher.Live("api-1").Single();
        Assert.Equal("runner-down classifier 14 restarting",
            Assert.Single(api1.Received, l => l.StartsWith("runner-down ", StringComparison.Ordinal)));
        Assert.Equal(WorkerState.Backoff, Slot(host, "classifier-1").State);
        Assert.Equal(1, _clock.ScheduledTimers);
    }

    [Fact]
    public async Task A_stop_cancels_a_pending_respawn()
    {
        var host = await StartHost();
        var delay = await Crash(host, "echo-1");
        var started = _launcher.Started.Count;

        await host.StopAsync(TimeSpan.Zero, force: true);
        // The wait's timer is gone with it: nothing is left to fire.
        Assert.Equal(0, _clock.ScheduledTimers);
        _clock.Advance(delay + delay);
        Assert.Equal(started, _launcher.Started.Count);
        Assert.Equal(WorkerState.Stopped, Slot(host, "echo-1").State);
        Assert.Equal(HostState.Stopped, host.State);
    }
}

/// <summary>The fake clock's timers keep <see cref="ITimer"/>'s promises.</summary>
public sealed class FakeClockTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_one_shot_timer_fires_once_when_the_clock_reaches_its_due_time_and_sees_that_time()
    {
        var clock = new FakeClock();
        var start = clock.GetUtcNow();
        var fired = new List<DateTimeOffset>();
        using var timer = clock.CreateTimer(_ => fired.Add(clock.GetUtcNow()), null, 3 * Second, Timeout.InfiniteTimeSpan);
        clock.Advance(3 * Second - TimeSpan.FromTicks(1));
        Assert.Empty(fired);
        clock.Advance(10 * Second);
        Assert.Equal(new[] { start + 3 * Second }, fired);
        Assert.Equal(start + 13 * Second - TimeSpan.FromTicks(1), clock.GetUtcNow());
        Assert.Equal(0, clock.ScheduledTimers);
    }

    [Fact]
    public void A_periodic_timer_fires_once_per_period_passed_in_order_with_other_timers()
    {
        var clock = new FakeClock();
        var start = clock.GetUtcNow();
        var fired = new List<string>();
        using var periodic = clock.CreateTimer(_ => fired.Add($"p{(clock.GetUtcNow() - start).TotalSeconds}"), null, Second, 2 * Second);
        using var once = clock.CreateTimer(_ => fired.Add($"o{(clock.GetUtcNow() - start).TotalSeconds}"), null, 4 * Second, TimeSpan.Zero);
        clock.Advance(6 * Second);
        Assert.Equal(new[] { "p1", "p3", "o4", "p5" }, fired);
        Assert.Equal(1, clock.ScheduledTimers);
    }

    [Fact]
    public void Change_reschedules_from_now_infinite_stops_it_and_a_disposed_timer_neither_fires_nor_changes()
    {
        var clock = new FakeClock();
        var count = 0;
        var timer = clock.CreateTimer(_ => count++, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        clock.Advance(10 * Second);
        Assert.Equal(0, count);

        Assert.True(timer.Change(2 * Second, Timeout.InfiniteTimeSpan));
        clock.Advance(Second);
        Assert.True(timer.Change(2 * Second, Timeout.InfiniteTimeSpan)); // due 2 s from now, not from the first Change
        clock.Advance(Second);
        Assert.Equal(0, count);
        clock.Advance(Second);
        Assert.Equal(1, count);

        Assert.True(timer.Change(TimeSpan.Zero, Second));
        clock.Advance(TimeSpan.Zero); // due at once: fires on the next move, however small
        Assert.Equal(2, count);
        Assert.True(timer.Change(Timeout.InfiniteTimeSpan, Second));
        clock.Advance(5 * Second);
        Assert.Equal(2, count);

        Assert.Throws<ArgumentOutOfRangeException>(() => timer.Change(TimeSpan.FromMilliseconds(-2), Timeout.InfiniteTimeSpan));
        timer.Change(Second, Second);
        timer.Dispose();
        clock.Advance(5 * Second);
        Assert.Equal(2, count);
        Assert.False(timer.Change(Second, Timeout.InfiniteTimeSpan));
        Assert.Equal(0, clock.ScheduledTimers);
    }

    [Fact]
    public async Task Callbacks_run_outside_the_clocks_lock_and_task_delay_waits_on_the_clock()
    {
        var clock = new FakeClock();
        // Another thread reads the clock while a callback waits for it: inside the lock, a deadlock.
        var read = false;
        using var timer = clock.CreateTimer(_ => read = Task.Run(() => clock.GetUtcNow()).Wait(TimeSpan.FromSeconds(5)), null, Second, Timeout.InfiniteTimeSpan);
        clock.Advance(Second);
        Assert.True(read);

        using var cancel = new CancellationTokenSource();
        var delay = Task.Delay(TimeSpan.FromMinutes(1), clock, CancellationToken.None);
        var cancelled = Task.Delay(TimeSpan.FromMinutes(1), clock, cancel.Token);
        Assert.Equal(2, clock.ScheduledTimers);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, clock.ScheduledTimers);
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False(delay.IsCompleted);
        clock.Advance(Second);
        await delay.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
