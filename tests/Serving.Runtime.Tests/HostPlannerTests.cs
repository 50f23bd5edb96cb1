using System.Collections;
using Xunit;

namespace Serving.Runtime.Tests;

public sealed class HostPlannerTests
{
    private static HostPlan Plan(PlatformInfo p, PlanOptions? o = null) => HostPlanner.Plan(p, Facts.Demo, o ?? new PlanOptions { HostId = "0123abcd" });

    [Fact]
    public void Linux_native_uses_unix_domain_sockets_in_a_fresh_directory()
    {
        var plan = Plan(Facts.Info("Linux", temp: "/tmp"));
        Assert.Equal(RunnerTransport.Uds, plan.Transport);
        Assert.Equal("/tmp/serving-0123abcd", plan.SocketDirectory);
        Assert.Equal(new[] { "/tmp/serving-0123abcd/echo.sock", "/tmp/serving-0123abcd/classifier.sock" },
            plan.Runners.Select(r => r.Endpoint));
        Assert.All(plan.Runners, r => Assert.Equal(1, r.Workers));
    }

    [Theory]
    [InlineData("Windows", "10.0.22631")]
    [InlineData("Linux", "5.15.90.1-microsoft-standard-WSL2")]
    [InlineData("Linux", "4.4.0-19041-Microsoft")]
    public void Windows_and_wsl_use_tcp_on_loopback(string os, string kernel)
    {
        var plan = Plan(Facts.Info(os, kernel));
        Assert.Equal(RunnerTransport.Tcp, plan.Transport);
        Assert.Equal("", plan.SocketDirectory);
        Assert.All(plan.Runners, r => Assert.Equal("127.0.0.1:0", r.Endpoint));
    }

    [Fact]
    public void No_production_grpc_on_windows_without_development()
    {
        var e = Assert.Throws<ServingException>(() =>
            Plan(Facts.Info("Windows"), new PlanOptions { Protocol = ServingProtocol.Grpc }));
        Assert.Equal(ErrorIds.GrpcRequiresReusePort, e.ErrorId);
        Assert.Contains("SO_REUSEPORT", e.Message);
        Assert.Contains("-Development", e.Message);

        var dev = Plan(Facts.Info("Windows"), new PlanOptions { Protocol = ServingProtocol.Grpc, Development = true });
        Assert.Equal(ServingMode.Development, dev.Mode);
        Assert.Equal(RunnerTransport.InProcess, dev.Transport);
        Assert.Equal(1, dev.ApiWorkers);
        Assert.Empty(dev.Warnings);
    }

    [Theory]
    [InlineData("MacOS")]
    [InlineData("FreeBSD")]
    public void MacOS_FreeBSD_grpc_production_is_allowed_with_a_warning(string os)
    {
        var plan = Plan(Facts.Info(os), new PlanOptions { Protocol = ServingProtocol.Grpc });
        var warning = Assert.Single(plan.Warnings);
        Assert.Contains("SO_REUSEPORT", warning);
        Assert.Contains("Linux container", warning);
        // Development mode is one process: no SO_REUSEPORT, no warning.
        Assert.Empty(Plan(Facts.Info(os), new PlanOptions { Protocol = ServingProtocol.Grpc, Development = true }).Warnings);
        // HTTP needs no SO_REUSEPORT: no warning.
        Assert.Empty(Plan(Facts.Info(os)).Warnings);
    }

    [Fact]
    public void Transport_override()
    {
        Assert.Equal(RunnerTransport.Tcp, Plan(Facts.Info("Linux"), new PlanOptions { Transport = TransportChoice.Tcp }).Transport);
        Assert.Equal(RunnerTransport.Uds, Plan(Facts.Info("Linux", "5.15-microsoft-standard-WSL2"), new PlanOptions { Transport = TransportChoice.Uds }).Transport);
        var e = Assert.Throws<ServingException>(() => Plan(Facts.Info("Windows"), new PlanOptions { Transport = TransportChoice.Uds }));
        Assert.Equal(ErrorIds.UnixSocketsUnsupported, e.ErrorId);
    }

    [Fact]
    public void Unix_socket_path_of_exactly_103_characters_is_kept()
    {
        // "/<base>/serving-0123abcd/classifier.sock": choose the base so the longest path is exactly 103.
        var suffix = "/serving-0123abcd/classifier.sock";
        var baseDir = "/" + new string('b', 103 - suffix.Length - 1);
        var plan = Plan(Facts.Info("Linux", temp: baseDir));
        Assert.Equal(103, plan.Runners[1].Endpoint.Length);
        Assert.EndsWith("classifier.sock", plan.Runners[1].Endpoint);
    }

    [Fact]
    public void Unix_socket_path_of_104_characters_is_shortened_to_runner_ids()
    {
        var suffix = "/serving-0123abcd/classifier.sock";
        var baseDir = "/" + new string('b', 104 - suffix.Length - 1);
        var plan = Plan(Facts.Info("Linux", temp: baseDir));
        Assert.All(plan.Runners, r => Assert.True(r.Endpoint.Length <= 103, r.Endpoint));
        Assert.Equal(baseDir + "/serving-0123abcd/r2.sock", plan.Runners[1].Endpoint);
    }

    [Fact]
    public void A_150_character_temp_dir_moves_sockets_to_a_short_base()
    {
        var temp = "/var/folders/" + new string('t', 150 - "/var/folders/".Length);
        Assert.Equal(150, temp.Length);
        var plan = Plan(Facts.Info("MacOS", temp: temp));
        Assert.Equal("/tmp/sv-0123abcd", plan.SocketDirectory);
        Assert.All(plan.Runners, r => Assert.True(r.Endpoint.Length <= 103));
    }

    [Fact]
    public void A_socket_directory_the_user_chose_that_cannot_fit_is_an_error_before_bind()
    {
        var dir = "/" + new string('d', 120);
        var e = Assert.Throws<ServingException>(() =>
            Plan(Facts.Info("Linux"), new PlanOptions { HostId = "0123abcd", SocketDirectory = dir }));
        Assert.Equal(ErrorIds.UnixSocketPathTooLong, e.ErrorId);
        Assert.Contains(dir, e.Message);
        Assert.Contains("103", e.Message);
        Assert.Contains("-SocketDirectory", e.Message);
        Assert.Contains("-Transport Tcp", e.Message);
        Assert.Contains((dir.Length + "/serving-0123abcd/r2.sock".Length).ToString(), e.Message);
    }

    [Fact]
    public void Socket_path_length_counts_utf8_bytes()
    {
        // 'é' is two bytes in sun_path; 40 of them make a base of 81 bytes but only 41 characters.
        var temp = "/" + new string('é', 40);
        var plan = Plan(Facts.Info("Linux", temp: temp));
        Assert.All(plan.Runners, r => Assert.True(System.Text.Encoding.UTF8.GetByteCount(r.Endpoint) <= 103, r.Endpoint));
    }

    [Theory]
    [InlineData(RespawnChoice.Auto, true, false)]
    [InlineData(RespawnChoice.Auto, false, true)]
    [InlineData(RespawnChoice.Always, true, true)]
    [InlineData(RespawnChoice.Never, false, false)]
    public void Respawn_auto_is_not_running_inside_container(RespawnChoice choice, bool container, bool expected)
    {
        var files = container ? new Hashtable { ["/.dockerenv"] = "" } : null;
        Assert.Equal(expected, Plan(Facts.Info("Linux", files: files), new PlanOptions { Respawn = choice }).Respawn);
    }

    [Fact]
    public void Api_workers_default_to_processor_count()
    {
        Assert.Equal(3, Plan(Facts.Info("Linux", cpus: 3)).ApiWorkers);
        Assert.Equal(2, Plan(Facts.Info("Linux", cpus: 16, quota: "200000 100000")).ApiWorkers);
        Assert.Equal(5, Plan(Facts.Info("Linux", cpus: 2), new PlanOptions { ApiWorkers = 5 }).ApiWorkers);
        Assert.Equal(ErrorIds.InvalidPlanOption, Assert.Throws<ServingException>(() =>
            Plan(Facts.Info("Linux"), new PlanOptions { Development = true, ApiWorkers = 2 })).ErrorId);
    }

    [Theory]
    [InlineData("127.0.0.1", 3000, "http://127.0.0.1:3000")]
    [InlineData("0.0.0.0", 8080, "http://127.0.0.1:8080")]
    [InlineData("::", 8080, "http://[::1]:8080")]
    [InlineData("::1", 80, "http://[::1]:80")]
    [InlineData("localhost", 3000, "http://127.0.0.1:3000")]
    [InlineData("10.1.2.3", 3000, "http://10.1.2.3:3000")]
    public void Host_address_and_url(string address, int port, string url)
    {
        var plan = Plan(Facts.Info("Linux"), new PlanOptions { HostAddress = address, Port = port });
        Assert.Equal(url, plan.Url);
        Assert.Equal(address, plan.HostAddress);
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("127.1")]
    [InlineData("1")]
    [InlineData("300.1.1.1")]
    public void Host_address_must_be_an_ip_literal(string address)
    {
        var e = Assert.Throws<ServingException>(() => Plan(Facts.Info("Linux"), new PlanOptions { HostAddress = address }));
        Assert.Equal(ErrorIds.InvalidHostAddress, e.ErrorId);
        Assert.Contains(address, e.Message);
    }

    [Fact]
    public void Default_address_is_loopback_outside_containers_and_any_inside()
    {
        Assert.Equal("127.0.0.1", Plan(Facts.Info("Linux")).HostAddress);
        Assert.Equal("0.0.0.0", Plan(Facts.Info("Linux", files: new Hashtable { ["/.dockerenv"] = "" })).HostAddress);
    }

    [Fact]
    public void Default_all_interfaces_inside_a_container_is_a_warning_naming_the_evidence_and_the_way_back()
    {
        var plan = Plan(Facts.Info("Linux", files: new Hashtable { ["/.dockerenv"] = "" }));
        var warning = Assert.Single(plan.Warnings);
        Assert.Contains("all interfaces (0.0.0.0)", warning);
        Assert.Contains("file:/.dockerenv", warning);
        Assert.Contains("published port", warning);
        Assert.Contains("-HostAddress 127.0.0.1", warning);
    }

    [Theory]
    [InlineData(true, "0.0.0.0")]     // chosen, not defaulted: no warning even in a container
    [InlineData(true, "127.0.0.1")]
    [InlineData(false, null)]         // outside a container the default is loopback
    [InlineData(false, "0.0.0.0")]
    public void No_address_warning_when_the_address_is_given_or_outside_containers(bool container, string? address)
    {
        var files = container ? new Hashtable { ["/.dockerenv"] = "" } : null;
        Assert.Empty(Plan(Facts.Info("Linux", files: files), new PlanOptions { HostAddress = address }).Warnings);
    }

    [Fact]
    public void The_container_override_decides_the_address_and_says_so()
    {
        var forced = Plan(Facts.Info("Linux", env: new Hashtable { ["SERVING_CONTAINERIZED"] = "true" }));
        Assert.Equal("0.0.0.0", forced.HostAddress);
        Assert.Contains("(SERVING_CONTAINERIZED=true)", Assert.Single(forced.Warnings));

        var denied = Plan(Facts.Info("Linux", files: new Hashtable { ["/.dockerenv"] = "" }, env: new Hashtable { ["SERVING_CONTAINERIZED"] = "false" }));
        Assert.Equal("127.0.0.1", denied.HostAddress);
        Assert.Empty(denied.Warnings);
        Assert.Contains("SERVING_CONTAINERIZED=false overrides the evidence: file:/.dockerenv", denied.Explanations[0]);
    }

    [Fact]
    public void Explanations_say_how_the_address_and_respawn_were_chosen()
    {
        var container = Plan(Facts.Info("Linux", files: new Hashtable { ["/proc/self/cgroup"] = "0::/kubepods/besteffort/pod1/x\n" }));
        Assert.Equal(new[]
        {
            "Listen address 0.0.0.0 (all interfaces): -HostAddress was not given and this is a container (evidence: cgroup:kubepods); " +
            "a loopback address could not be reached through the container's published port.",
            "Respawn off: -Respawn Auto and this is a container (evidence: cgroup:kubepods); crashed workers are not restarted " +
            "here: a worker that exits ends the host (Failed, exit code 1 under -Wait), so the container's orchestrator restarts it. -Respawn Always overrides.",
        }, container.Explanations);

        var host = Plan(Facts.Info("Linux"));
        Assert.Equal(new[]
        {
            "Listen address 127.0.0.1 (this machine only): -HostAddress was not given and this is not a container (no container evidence found).",
            "Respawn on: -Respawn Auto and this is not a container (no container evidence found); crashed workers are restarted with backoff.",
        }, host.Explanations);

        var chosen = Plan(Facts.Info("Linux"), new PlanOptions { HostAddress = "10.1.2.3", Respawn = RespawnChoice.Never });
        Assert.Equal(new[] { "Listen address 10.1.2.3: given by -HostAddress.", "Respawn off: -Respawn Never; a worker that exits ends the host (Failed)." }, chosen.Explanations);
    }

    [Fact]
    public void Unknown_platform_is_an_error_naming_it()
    {
        var e = Assert.Throws<ServingException>(() => Plan(Facts.Info("Haiku", "r1beta4")));
        Assert.Equal(ErrorIds.UnsupportedPlatform, e.ErrorId);
        Assert.Contains("Haiku", e.Message);
    }

    [Fact]
    public void A_metrics_port_must_be_a_port_number_other_than_the_apis()
    {
        var error = Assert.Throws<ServingException>(() => Plan(Facts.Info("Linux"), new PlanOptions { Port = 8000, MetricsPort = 8000 }));
        Assert.Equal(ErrorIds.InvalidPlanOption, error.ErrorId);
        Assert.Contains("is the API port", error.Message);
        Assert.Equal(ErrorIds.InvalidPlanOption, Assert.Throws<ServingException>(() =>
            Plan(Facts.Info("Linux"), new PlanOptions { MetricsPort = 70000 })).ErrorId);
        var plan = Plan(Facts.Info("Linux"), new PlanOptions { Protocol = ServingProtocol.Grpc, Port = 8000, MetricsPort = 9464, HostAddress = "::1" });
        Assert.Equal(9464, plan.MetricsPort);
        Assert.Equal("http://[::1]:9464/metrics", plan.MetricsUrl);
    }

    [Fact]
    public void Port_zero_is_refused_for_production_grpc()
    {
        Assert.Equal(0, Plan(Facts.Info("Linux"), new PlanOptions { Port = 0 }).Port);
        Assert.Equal(ErrorIds.InvalidPlanOption, Assert.Throws<ServingException>(() =>
            Plan(Facts.Info("Linux"), new PlanOptions { Port = 0, Protocol = ServingProtocol.Grpc })).ErrorId);
    }

    [Fact]
    public void Host_ids_are_fresh()
    {
        Assert.NotEqual(HostPlanner.NewHostId(), HostPlanner.NewHostId());
        Assert.Matches("^[0-9a-f]{8}$", HostPlanner.NewHostId());
    }
}
