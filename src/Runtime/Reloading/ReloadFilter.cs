using System.Text;
using System.Text.RegularExpressions;

namespace Serving.Runtime.Reloading;

/// <summary>
/// Decides whether a changed file under a service directory should start a new generation of workers
/// (<c>Start-ServingHost -Reload</c>). Pure apart from <see cref="Load(string, IEnumerable{string}?, IEnumerable{string}?)"/>,
/// which reads the service's <see cref="IgnoreFileName"/>.
/// <para>
/// Paths are relative to the service directory; '/' and '\' both separate segments, empty and "."
/// segments are dropped. A path ending in a separator names a directory (directory patterns match it).
/// </para>
/// <para>Glob semantics (gitignore-like):</para>
/// <list type="bullet">
/// <item><c>*</c> matches any run of characters except '/'; <c>?</c> one character except '/'.</item>
/// <item><c>**</c> as a whole segment matches any number of segments, including none:
/// <c>**/x</c> is x at any depth, <c>a/**</c> everything under a, <c>a/**/b</c> b anywhere under a
/// (a/b included). Next to other characters (<c>a**</c>) it is just two <c>*</c>.</item>
/// <item>Every other character is literal: no character classes, no escapes ('\' is a separator).</item>
/// <item>A pattern with no '/' other than a trailing one matches the name at any depth
/// (<c>*.onnx</c> matches models/iris.onnx). A pattern with a '/' elsewhere is anchored at the service
/// directory; a leading '/' is allowed and means the same (<c>/models/*.bin</c> matches models/a.bin,
/// not x/models/a.bin).</item>
/// <item>A pattern that matches a directory matches every path under it, so <c>models</c> matches
/// models/iris.onnx. A trailing '/' makes the pattern match directories only: <c>obj/</c> matches
/// everything under any directory named obj, never a file named obj.</item>
/// <item>Case-sensitive on Linux, case-insensitive on Windows and macOS (their usual file systems),
/// unless the constructor is told otherwise.</item>
/// </list>
/// <para>
/// A path is watched when some include pattern matches it and the exclude patterns, read in order
/// (<see cref="DefaultExclude"/>, then the caller's, then the ignore file's), do not leave it excluded:
/// the last pattern that matches decides, and an ignore-file line starting with '!' re-includes. Unlike
/// git, which never descends into an excluded directory, a negation can re-include a file under an
/// excluded directory (<c>!obj/schema.json</c> after <c>obj/</c>): here every path is judged on its own.
/// </para>
/// </summary>
public sealed class ReloadFilter
{
    /// <summary>The file in the service directory whose lines are more exclude patterns (gitignore syntax).</summary>
    public const string IgnoreFileName = ".servingignore";

    /// <summary>Every file.</summary>
    public static IReadOnlyList<string> DefaultInclude { get; } = ["**"];

    /// <summary>
    /// What editors, builds and version control churn without the service changing. Not bin/: the
    /// runner assemblies a manifest points at live there.
    /// </summary>
    public static IReadOnlyList<string> DefaultExclude { get; } =
    [
        "obj/", ".git/", ".vs/", ".vscode/", ".idea/",
        "*.swp", "*.swx", "*.swo", "*~", ".#*", "#*#", "*.tmp",
        "4913", // vim writes and deletes it to probe whether the directory is writable
        ".DS_Store", "Thumbs.db",
    ];

    private readonly Pattern[] _include;
    private readonly Pattern[] _exclude;

    /// <summary>Builds a filter with the platform's case sensitivity (case-sensitive on Linux only).</summary>
    /// <param name="include">Patterns a path must match one of; null or empty means <see cref="DefaultInclude"/>
    /// (an empty list would silently never reload).</param>
    /// <param name="exclude">Patterns excluded <em>in addition to</em> <see cref="DefaultExclude"/>, which always apply
    /// (an ignore-file '!' line can re-include what they exclude).</param>
    /// <param name="ignoreFileLines">The lines of <see cref="IgnoreFileName"/>, read after the excludes: blank lines and
    /// lines starting with '#' are skipped, '!' re-includes.</param>
    /// <exception cref="ArgumentException">A pattern is malformed (empty, or only separators); the message names it.</exception>
    public ReloadFilter(IEnumerable<string>? include, IEnumerable<string>? exclude, IEnumerable<string>? ignoreFileLines)
        : this(include, exclude, ignoreFileLines, !OperatingSystem.IsLinux())
    {
    }

    /// <inheritdoc cref="ReloadFilter(IEnumerable{string}?, IEnumerable{string}?, IEnumerable{string}?)"/>
    /// <param name="include">Patterns a path must match one of; null or empty means <see cref="DefaultInclude"/>.</param>
    /// <param name="exclude">Patterns excluded in addition to <see cref="DefaultExclude"/>.</param>
    /// <param name="ignoreFileLines">The lines of <see cref="IgnoreFileName"/>.</param>
    /// <param name="ignoreCase">Whether names compare case-insensitively.</param>
    public ReloadFilter(IEnumerable<string>? include, IEnumerable<string>? exclude, IEnumerable<string>? ignoreFileLines, bool ignoreCase)
    {
        IgnoreCase = ignoreCase;
        var includes = include?.Select(p => Pattern.FromArgument(p, "include", ignoreCase)).ToArray() ?? [];
        _include = includes.Length > 0 ? includes : DefaultInclude.Select(p => Pattern.FromArgument(p, "include", ignoreCase)).ToArray();

        var excludes = DefaultExclude.Select(p => Pattern.FromArgument(p, "exclude", ignoreCase)).ToList();
        if (exclude is not null) excludes.AddRange(exclude.Select(p => Pattern.FromArgument(p, "exclude", ignoreCase)));
        if (ignoreFileLines is not null)
        {
            var lineNumber = 0;
            foreach (var line in ignoreFileLines)
            {
                lineNumber++;
                var pattern = Pattern.FromIgnoreLine(line, lineNumber, ignoreCase);
                if (pattern is not null) excludes.Add(pattern);
            }
        }
        _exclude = [.. excludes];
    }

    /// <summary>Whether names compare case-insensitively.</summary>
    public bool IgnoreCase { get; }

    /// <summary>
    /// Builds a filter from the caller's patterns and <paramref name="serviceDirectory"/>/<see cref="IgnoreFileName"/>
    /// when it exists; one that cannot be read counts as absent, so a file being rewritten by an editor
    /// does not stop the host (the watcher loads again when it changes).
    /// </summary>
    /// <exception cref="ArgumentException">A pattern, given or in the ignore file, is malformed.</exception>
    public static ReloadFilter Load(string serviceDirectory, IEnumerable<string>? include, IEnumerable<string>? exclude)
        => Load(serviceDirectory, include, exclude, !OperatingSystem.IsLinux());

    /// <inheritdoc cref="Load(string, IEnumerable{string}?, IEnumerable{string}?)"/>
    public static ReloadFilter Load(string serviceDirectory, IEnumerable<string>? include, IEnumerable<string>? exclude, bool ignoreCase)
    {
        ArgumentNullException.ThrowIfNull(serviceDirectory);
        return new ReloadFilter(include, exclude, ReadIgnoreFile(Path.Combine(serviceDirectory, IgnoreFileName)), ignoreCase);
    }

    private static string[]? ReadIgnoreFile(string path)
    {
        // No File.Exists first: the file can go between the check and the read (editors save by rename),
        // and a missing file is a FileNotFoundException like any other that cannot be read.
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether a change to <paramref name="relativePath"/> (relative to the service directory) should
    /// start a reload: some include pattern matches it and the exclude patterns leave it included.
    /// <see cref="IgnoreFileName"/> itself never does: the watcher re-reads it instead.
    /// </summary>
    public bool Watches(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var path = Normalize(relativePath);
        if (path.Length == 0) return false;
        if (string.Equals(path, IgnoreFileName, IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)) return false;
        if (!_include.Any(p => p.Matches(path))) return false;
        for (var i = _exclude.Length - 1; i >= 0; i--)
        {
            if (_exclude[i].Matches(path)) return _exclude[i].Negated;
        }
        return true;
    }

    /// <summary>
    /// '/'-separated segments without empty or "." ones; a trailing '/' is kept when the path ended in a
    /// separator, so directory patterns can tell the path names a directory.
    /// </summary>
    private static string Normalize(string path)
    {
        var segments = path.Split('/', '\\').Where(s => s.Length > 0 && s != ".").ToArray();
        if (segments.Length == 0) return "";
        var joined = string.Join('/', segments);
        var namesDirectory = path.EndsWith('/') || path.EndsWith('\\');
        return namesDirectory ? joined + "/" : joined;
    }

    /// <summary>One compiled glob.</summary>
    private sealed class Pattern
    {
        private readonly Regex _regex;

        private Pattern(Regex regex, bool negated)
        {
            _regex = regex;
            Negated = negated;
        }

        /// <summary>An ignore-file '!' line: a match re-includes.</summary>
        public bool Negated { get; }

        /// <param name="path">Normalized: see <see cref="Normalize"/>.</param>
        public bool Matches(string path) => _regex.IsMatch(path);

        public static Pattern FromArgument(string? text, string kind, bool ignoreCase)
        {
            if (text is null) throw new ArgumentException($"A reload {kind} pattern is null.", kind);
            return Compile(text.Trim(), negated: false, ignoreCase)
                ?? throw new ArgumentException($"The reload {kind} pattern '{text}' is malformed: it is empty or only separators.", kind);
        }

        /// <returns>Null for a blank or comment line.</returns>
        public static Pattern? FromIgnoreLine(string? line, int lineNumber, bool ignoreCase)
        {
            var text = line?.Trim() ?? "";
            if (text.Length == 0 || text.StartsWith('#')) return null;
            var negated = text.StartsWith('!');
            return Compile(negated ? text[1..].Trim() : text, negated, ignoreCase)
                ?? throw new ArgumentException(
                    $"{IgnoreFileName} line {lineNumber}: the pattern '{text}' is malformed: it is empty or only separators.", "ignoreFileLines");
        }

        /// <returns>Null when the pattern has no segment.</returns>
        private static Pattern? Compile(string text, bool negated, bool ignoreCase)
        {
            var glob = text.Replace('\\', '/');
            var directoryOnly = glob.EndsWith('/');
            var body = glob.TrimEnd('/');
            var anchored = body.Contains('/');
            var segments = body.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (segments.Length == 0) return null;

            var regex = new StringBuilder("^");
            // Unanchored: the pattern may start at any segment boundary.
            if (!anchored) regex.Append("(?:.*/)?");
            for (var i = 0; i < segments.Length; i++)
            {
                var last = i == segments.Length - 1;
                if (segments[i] == "**")
                {
                    // Not last: zero or more whole segments, each with its '/', so a/**/b also matches a/b.
                    // Last: at least one segment, since a/** is what is under a, not a itself.
                    regex.Append(last ? "[^/].*" : "(?:[^/]+/)*");
                    continue;
                }
                foreach (var c in segments[i])
                {
                    regex.Append(c switch
                    {
                        '*' => "[^/]*",
                        '?' => "[^/]",
                        _ => Regex.Escape(c.ToString()),
                    });
                }
                if (!last) regex.Append('/');
            }
            // What the pattern matched is the path itself or a directory above it; a directory pattern
            // must be followed by a '/' (a directory path keeps its trailing one, see Normalize).
            regex.Append(directoryOnly ? "/" : "(?:/|\\z)");

            // NonBacktracking: linear time whatever the user writes (*a*a*a*... cannot blow up).
            var options = RegexOptions.CultureInvariant | RegexOptions.Singleline | RegexOptions.NonBacktracking;
            if (ignoreCase) options |= RegexOptions.IgnoreCase;
            return new Pattern(new Regex(regex.ToString(), options), negated);
        }
    }
}
