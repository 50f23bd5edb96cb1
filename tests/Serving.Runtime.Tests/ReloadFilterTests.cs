using Xunit;

namespace Serving.Runtime.Tests;

/// <summary>Which changed files under a service directory start a reload: defaults, globs, the ignore file.</summary>
public sealed class ReloadFilterTests
{
    private static ReloadFilter Filter(string[]? include = null, string[]? exclude = null, string[]? ignoreLines = null, bool ignoreCase = false)
        => new(include, exclude, ignoreLines, ignoreCase);

    [Theory]
    [InlineData("obj/x.dll")]
    [InlineData("obj/Release/net8.0/Iris.dll")]
    [InlineData("src/Runner/obj/project.assets.json")]
    [InlineData(".git/HEAD")]
    [InlineData(".git/refs/heads/main")]
    [InlineData(".vs/Serving/v17/.suo")]
    [InlineData(".vscode/settings.json")]
    [InlineData(".idea/workspace.xml")]
    [InlineData("a.swp")]
    [InlineData(".Iris.psd1.swp")]
    [InlineData("models/.iris.onnx.swx")]
    [InlineData("a.swo")]
    [InlineData("Iris.psd1~")]
    [InlineData("4913")]
    [InlineData("models/4913")]
    [InlineData(".#Iris.psd1")]
    [InlineData("#Iris.psd1#")]
    [InlineData("upload.tmp")]
    [InlineData(".DS_Store")]
    [InlineData("models/Thumbs.db")]
    public void Editor_build_and_version_control_churn_is_excluded_by_default(string path)
        => Assert.False(Filter().Watches(path));

    [Theory]
    [InlineData("Iris.psd1")]
    [InlineData("bin/Release/net8.0/Iris.Runner.dll")]
    [InlineData("bin/Release/net8.0/Iris.Runner.deps.json")]
    [InlineData("models/iris.onnx")]
    [InlineData("objects/x.dll")] // obj/ is a whole directory name, not a prefix
    [InlineData("49130")]
    [InlineData("a.swp.bak")]
    public void Service_files_are_watched_by_default_including_assemblies_under_bin(string path)
        => Assert.True(Filter().Watches(path));

    [Theory]
    [InlineData(@"bin\Release\net8.0\Iris.Runner.dll", true)]
    [InlineData(@"obj\Release\x.dll", false)]
    [InlineData(@".\models\iris.onnx", true)]
    [InlineData("models//iris.onnx", true)]
    public void Backslash_separators_and_empty_or_dot_segments_are_normalised(string path, bool watched)
        => Assert.Equal(watched, Filter().Watches(path));

    [Theory]
    [InlineData("", false)]
    [InlineData("/", false)]
    [InlineData(".", false)]
    public void A_path_with_no_segment_is_not_watched(string path, bool watched)
        => Assert.Equal(watched, Filter().Watches(path));

    [Theory]
    [InlineData("iris.onnx", true)]
    [InlineData("models/iris.onnx", true)]
    [InlineData("models/v2/deep/iris.onnx", true)]
    [InlineData("iris.onnx.json", false)]
    [InlineData("models/iris.pt", false)]
    public void A_pattern_without_a_slash_matches_the_name_at_any_depth(string path, bool excluded)
        => Assert.Equal(!excluded, Filter(exclude: ["*.onnx"]).Watches(path));

    [Theory]
    [InlineData("models/a.bin", true)]
    [InlineData("x/models/a.bin", false)]
    [InlineData("models/v2/a.bin", false)] // '*' never crosses a '/'
    [InlineData("models/a.bin2", false)]
    public void A_pattern_with_a_slash_is_anchored_at_the_service_directory(string path, bool excluded)
    {
        Assert.Equal(!excluded, Filter(exclude: ["/models/*.bin"]).Watches(path));
        Assert.Equal(!excluded, Filter(exclude: ["models/*.bin"]).Watches(path));
    }

    [Theory]
    [InlineData("a.?n", "a.on", true)]
    [InlineData("a.?n", "a.n", false)]
    [InlineData("a?b", "a/b", false)]
    public void A_question_mark_is_one_character_other_than_a_slash(string pattern, string path, bool excluded)
        => Assert.Equal(!excluded, Filter(exclude: [pattern]).Watches(path));

    [Theory]
    [InlineData("**/cache.json", "cache.json", true)]
    [InlineData("**/cache.json", "a/b/cache.json", true)]
    [InlineData("**/cache.json", "a/b/cache.json.bak", false)]
    [InlineData("data/**", "data/x.csv", true)]
    [InlineData("data/**", "data/a/b/x.csv", true)]
    [InlineData("data/**", "data", false)]
    [InlineData("data/**", "other/data/x.csv", false)]
    [InlineData("a/**/b.txt", "a/b.txt", true)]
    [InlineData("a/**/b.txt", "a/x/b.txt", true)]
    [InlineData("a/**/b.txt", "a/x/y/b.txt", true)]
    [InlineData("a/**/b.txt", "c/a/x/b.txt", false)]
    [InlineData("a/**/b.txt", "a/x/b.txt2", false)]
    [InlineData("a**b", "axxb", true)] // not a whole segment: two '*'
    [InlineData("a**b", "a/b", false)]
    public void A_double_star_segment_matches_any_number_of_segments(string pattern, string path, bool excluded)
        => Assert.Equal(!excluded, Filter(exclude: [pattern]).Watches(path));

    [Theory]
    [InlineData("build/", "build/out.dll", true)]
    [InlineData("build/", "build/a/b/out.dll", true)]
    [InlineData("build/", "src/build/out.dll", true)]
    [InlineData("build/", "build/", true)] // a path ending in '/' names the directory itself
    [InlineData("build/", "build", false)] // a file named build
    [InlineData("build/", "builds/out.dll", false)]
    [InlineData("/build/", "src/build/out.dll", false)]
    [InlineData("/build/", "build/out.dll", true)]
    [InlineData("build", "build", true)] // without the '/': the file, or everything under the directory
    [InlineData("build", "src/build/out.dll", true)]
    public void A_directory_pattern_matches_everything_under_the_directory(string pattern, string path, bool excluded)
        => Assert.Equal(!excluded, Filter(exclude: [pattern]).Watches(path));

    [Fact]
    public void Caller_excludes_add_to_the_defaults_rather_than_replacing_them()
    {
        var filter = Filter(exclude: ["*.log"]);
        Assert.False(filter.Watches("logs/run.log"));
        Assert.False(filter.Watches("obj/x.dll"));
        Assert.True(filter.Watches("Iris.psd1"));
    }

    [Fact]
    public void Ignore_file_lines_skip_comments_and_blank_lines_and_trim_whitespace()
    {
        var filter = Filter(ignoreLines:
        [
            "# scratch data the notebook writes",
            "",
            "   ",
            "  scratch/  ",
            "#models/",
            "*.csv\t",
        ]);
        Assert.False(filter.Watches("scratch/a.txt"));
        Assert.False(filter.Watches("data/train.csv"));
        Assert.True(filter.Watches("models/iris.onnx")); // "#models/" is a comment, not a pattern
        Assert.True(filter.Watches("Iris.psd1"));
    }

    [Fact]
    public void An_ignore_file_negation_re_includes_and_the_last_matching_line_wins()
    {
        var filter = Filter(ignoreLines: ["*.json", "!appsettings.json", "config/*.json", "! keep.tmp"]);
        Assert.False(filter.Watches("data.json"));
        Assert.True(filter.Watches("appsettings.json"));
        Assert.False(filter.Watches("config/appsettings.json")); // a later line excludes it again
        Assert.True(filter.Watches("keep.tmp")); // negations can lift a default exclude
        Assert.False(filter.Watches("other.tmp"));
    }

    [Fact]
    public void A_negation_can_re_include_a_file_under_an_excluded_directory()
    {
        var filter = Filter(ignoreLines: ["generated/", "!generated/schema.json"]);
        Assert.True(filter.Watches("generated/schema.json"));
        Assert.False(filter.Watches("generated/other.json"));
    }

    [Fact]
    public void A_negation_before_the_exclude_it_should_lift_has_no_effect()
    {
        var filter = Filter(ignoreLines: ["!appsettings.json", "*.json"]);
        Assert.False(filter.Watches("appsettings.json"));
    }

    [Theory]
    [InlineData("Iris.psd1", true)]
    [InlineData("services/Other.psd1", true)]
    [InlineData("bin/Release/net8.0/Iris.Runner.dll", false)]
    [InlineData("models/iris.onnx", false)]
    [InlineData("Iris.psd1.swp", false)]
    public void Include_patterns_narrow_what_is_watched(string path, bool watched)
        => Assert.Equal(watched, Filter(include: ["*.psd1"]).Watches(path));

    [Fact]
    public void Excludes_still_apply_to_included_paths()
    {
        var filter = Filter(include: ["*.psd1"], exclude: ["/old/"]);
        Assert.False(filter.Watches("old/Iris.psd1"));
        Assert.False(filter.Watches("obj/Iris.psd1"));
        Assert.True(filter.Watches("Iris.psd1"));
    }

    [Fact]
    public void An_empty_include_list_means_every_file_rather_than_none()
    {
        Assert.True(Filter(include: []).Watches("models/iris.onnx"));
        Assert.Equal(["**"], ReloadFilter.DefaultInclude);
    }

    [Theory]
    [InlineData("MODELS/IRIS.ONNX")]
    [InlineData("models/iris.ONNX")]
    [InlineData("Obj/x.dll")]
    [InlineData(".ds_store")]
    public void Case_sensitive_matching_tells_names_that_differ_in_case_apart(string path)
        => Assert.True(Filter(exclude: ["models/*.onnx"], ignoreCase: false).Watches(path));

    [Theory]
    [InlineData("MODELS/IRIS.ONNX")]
    [InlineData("models/iris.ONNX")]
    [InlineData("Obj/x.dll")]
    [InlineData(".ds_store")]
    public void Case_insensitive_matching_treats_names_that_differ_in_case_alike(string path)
        => Assert.False(Filter(exclude: ["models/*.onnx"], ignoreCase: true).Watches(path));

    [Fact]
    public void Case_sensitivity_defaults_to_the_platform()
    {
        var filter = new ReloadFilter(null, null, null);
        Assert.Equal(!OperatingSystem.IsLinux(), filter.IgnoreCase);
        Assert.Equal(!OperatingSystem.IsLinux(), !filter.Watches("OBJ/x.dll"));
    }

    [Theory]
    [InlineData(".servingignore")]
    [InlineData("./.servingignore")]
    public void The_ignore_file_itself_is_not_watched(string path)
        => Assert.False(Filter().Watches(path));

    [Fact]
    public void An_ignore_file_below_the_service_directory_is_an_ordinary_file()
        => Assert.True(Filter().Watches("models/.servingignore"));

    [Fact]
    public void The_ignore_file_compares_by_the_filters_case_sensitivity()
    {
        Assert.False(Filter(ignoreCase: true).Watches(".ServingIgnore"));
        Assert.True(Filter(ignoreCase: false).Watches(".ServingIgnore"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("/")]
    [InlineData("//")]
    [InlineData(@"\")]
    public void A_malformed_include_or_exclude_pattern_is_an_argument_exception_naming_it(string pattern)
    {
        var include = Assert.Throws<ArgumentException>(() => Filter(include: ["*.psd1", pattern]));
        Assert.Contains($"'{pattern}'", include.Message);
        Assert.Contains("include", include.Message);
        var exclude = Assert.Throws<ArgumentException>(() => Filter(exclude: [pattern]));
        Assert.Contains($"'{pattern}'", exclude.Message);
        Assert.Contains("exclude", exclude.Message);
    }

    [Fact]
    public void A_null_pattern_is_an_argument_exception()
        => Assert.Throws<ArgumentException>(() => new ReloadFilter([null!], null, null, ignoreCase: false));

    [Theory]
    [InlineData("!")]
    [InlineData("! ")]
    [InlineData("!/")]
    public void A_malformed_ignore_file_line_is_an_argument_exception_naming_the_line(string line)
    {
        var e = Assert.Throws<ArgumentException>(() => Filter(ignoreLines: ["# ok", "*.log", line]));
        Assert.Contains(".servingignore line 3", e.Message);
        Assert.Contains($"'{line.Trim()}'", e.Message);
    }

    [Fact]
    public void A_pathological_pattern_matches_in_reasonable_time()
    {
        // Backtracking would try every way to split the name among the stars.
        var filter = Filter(exclude: ["*a*a*a*a*a*a*a*a*a*a*a*a*b"]);
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(filter.Watches(new string('a', 5000)));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public void Load_reads_the_ignore_file_in_the_service_directory()
    {
        var directory = Directory.CreateTempSubdirectory("serving-reload-");
        try
        {
            File.WriteAllLines(Path.Combine(directory.FullName, ReloadFilter.IgnoreFileName),
                ["# notebooks scribble here", "scratch/", "*.csv", "!labels.csv"]);
            var filter = ReloadFilter.Load(directory.FullName, null, ["*.log"], ignoreCase: false);
            Assert.False(filter.Watches("scratch/notes.txt"));
            Assert.False(filter.Watches("data/train.csv"));
            Assert.True(filter.Watches("data/labels.csv"));
            Assert.False(filter.Watches("run.log"));
            Assert.False(filter.Watches("obj/x.dll"));
            Assert.True(filter.Watches("models/iris.onnx"));
            Assert.False(filter.Watches(ReloadFilter.IgnoreFileName));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_without_an_ignore_file_uses_only_the_given_patterns()
    {
        var directory = Directory.CreateTempSubdirectory("serving-reload-");
        try
        {
            var filter = ReloadFilter.Load(directory.FullName, ["*.psd1"], null, ignoreCase: false);
            Assert.True(filter.Watches("Iris.psd1"));
            Assert.False(filter.Watches("models/iris.onnx"));
            Assert.False(filter.Watches("obj/Iris.psd1"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_treats_an_ignore_file_it_cannot_read_as_absent()
    {
        var directory = Directory.CreateTempSubdirectory("serving-reload-");
        try
        {
            // A directory by the ignore file's name: reading it fails (an access error on Linux and Windows).
            Directory.CreateDirectory(Path.Combine(directory.FullName, ReloadFilter.IgnoreFileName));
            var filter = ReloadFilter.Load(directory.FullName, null, null, ignoreCase: false);
            Assert.True(filter.Watches("data/train.csv"));
            Assert.False(filter.Watches("obj/x.dll"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_with_a_missing_service_directory_uses_only_the_given_patterns()
    {
        var missing = Path.Combine(Path.GetTempPath(), "serving-reload-missing-" + Guid.NewGuid().ToString("N"));
        Assert.True(ReloadFilter.Load(missing, null, null, ignoreCase: false).Watches("Iris.psd1"));
    }
}
