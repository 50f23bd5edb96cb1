using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>Bursts of file events become one reload: quiet period, maximum wait, thread safety.</summary>
public sealed class ReloadDebounceTests
{
    private static readonly DateTime T0 = new(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    private static DateTime At(int milliseconds) => T0.AddMilliseconds(milliseconds);

    [Fact]
    public void The_defaults_are_300_ms_quiet_and_2_s_max_wait()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(300), ReloadDebounce.DefaultQuiet);
        Assert.Equal(TimeSpan.FromSeconds(2), ReloadDebounce.DefaultMaxWait);
        var debounce = new ReloadDebounce();
        Assert.Equal((ReloadDebounce.DefaultQuiet, ReloadDebounce.DefaultMaxWait), (debounce.Quiet, debounce.MaxWait));
    }

    [Fact]
    public void Nothing_pending_is_never_due()
    {
        var debounce = new ReloadDebounce(Quiet, MaxWait);
        Assert.Null(debounce.DueAt);
        Assert.Null(debounce.TakeIfDue(At(60_000)));
    }

    [Fact]
    public void One_event_is_due_after_the_quiet_period()
    {
        var debounce = new ReloadDebounce(Quiet, MaxWait);
        debounce.Add("Iris.psd1", At(0));
        Assert.Equal(At(300), debounce.DueAt);
    }

    [Fact]
    public void Taking_before_due_returns_null_and_keeps_the_batch()
    {
        var debounce = new ReloadDebounce(Quiet, MaxWait);
        debounce.Add("Iris.psd1", At(0));
        Assert.Null(debounce.TakeIfDue(At(299)));
        Assert.Equal(At(300), debounce.DueAt);
        Assert.Equal(["Iris.psd1"], debounce.TakeIfDue(At(300)));
    }

    [Fact]
    public void A_burst_within_the_quiet_period_is_one_batch_of_distinct_paths_in_first_seen_order()
    {
        var debounce = new ReloadDebounce(Quiet, MaxWait);
        // An editor's save: write the temporary file, rename over the original, touch it again.
        debounce.Add("Iris.psd1", At(0));
        debounce.Add("bin/Iris.Runner.dll", At(50));
        debounce.Add("Iris.psd1", At(120));
        debounce.Add("models/iris.onnx", At(200));
        debounce.Add("bin/Iris.Runner.dll", At(250));
        Assert.Equal(At(550), debounce.DueAt);
        Assert.Null(debounce.TakeIfDue(At(500)));
        Assert.Equal(["Iris.psd1", "bin/Iris.Runner.dll", "models/iris.onnx"], debounce.TakeIfDue(At(550)));
    }

    [Fact]
    public void A_steady_stream_of_changes_is_due_by_the_maximum_wait()
    {
        var debounce = new ReloadDebounce(Quiet, MaxWait);
        var due = new List<DateTime>();
        // A long build: a change every 100 ms never leaves 300 ms of quiet.
        for (var ms = 0; ms <= 5_000; ms += 100)
        {
            debounce.Add($"bin/file{ms % 700}.dll", At(ms));
            if (debounce.TakeIfDue(At(ms)) is not null) due.Add(At(ms));
        }
        Assert.Equal([At(2_000), At(4_100)], due);
        Assert.Equal(At(5_300), debounce.DueAt); // once the stream stops, the rest is due after the quiet period
    }

    [Fact]
    public void The_maximum_wait_counts_from_the_first_change_of_the_batch()
    {
        var debounce = new ReloadDebounce(Quiet, MaxWait);
        debounce.Add("a", At(0));
        debounce.Add("b", At(1_900));
        Assert.Equal(At(2_000), debounce.DueAt);
    }

    [Fact]
    public void After_a_take_nothing_is_pending_and_the_next_change_starts_a_new_batch()
    {
        var debounce = new ReloadDebounce(Quiet, MaxWait);
        debounce.Add("Iris.psd1", At(0));
        Assert.NotNull(debounce.TakeIfDue(At(1_000)));
        Assert.Null(debounce.DueAt);
        Assert.Null(debounce.TakeIfDue(At(10_000)));

        debounce.Add("Iris.psd1", At(20_000));
        Assert.Equal(At(20_300), debounce.DueAt);
        Assert.Equal(["Iris.psd1"], debounce.TakeIfDue(At(20_300)));
    }

    [Fact]
    public void A_change_that_arrives_with_an_earlier_time_does_not_pull_the_quiet_period_back()
    {
        var debounce = new ReloadDebounce(Quiet, MaxWait);
        debounce.Add("a", At(0));
        debounce.Add("b", At(200));
        debounce.Add("c", At(150)); // read the clock first, took the lock second
        Assert.Equal(At(500), debounce.DueAt);
    }

    [Theory]
    [InlineData(-1, 2_000)]
    [InlineData(300, 299)]
    public void A_negative_quiet_period_or_a_maximum_wait_shorter_than_it_is_rejected(int quietMs, int maxWaitMs)
        => Assert.Throws<ArgumentOutOfRangeException>(
            () => new ReloadDebounce(TimeSpan.FromMilliseconds(quietMs), TimeSpan.FromMilliseconds(maxWaitMs)));

    [Fact]
    public void Changes_added_from_many_threads_are_each_taken_exactly_once()
    {
        var debounce = new ReloadDebounce(TimeSpan.Zero, TimeSpan.Zero);
        var taken = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, t =>
        {
            for (var n = 0; n < 1_000; n++)
            {
                debounce.Add($"{t}/{n}", At(n));
                if (debounce.TakeIfDue(At(n)) is { } batch)
                {
                    foreach (var path in batch) taken.Add(path);
                }
            }
        });
        if (debounce.TakeIfDue(At(1_000_000)) is { } rest)
        {
            foreach (var path in rest) taken.Add(path);
        }
        Assert.Equal(8_000, taken.Count);
        Assert.Equal(8_000, taken.Distinct().Count());
    }
}
