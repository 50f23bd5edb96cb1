using System.Text;

namespace Serving.Worker.Metrics;

/// <summary>
/// The file one worker records its metrics in (<c>metrics/&lt;worker&gt;-&lt;pid&gt;.seg</c> in the host's state
/// directory), mapped into memory by its writer and read by whichever API worker answers a scrape.
/// Little-endian. A 64-byte header, then fixed 256-byte records:
/// <code>
/// header  0  u64 magic "SRVMETR1"     record  0  i32 family id
///         8  i32 version (1)                  4  i32 bucket (-1: the value; 0..n: a histogram bucket, n = +Inf; n+1: its sum)
///        12  i32 capacity (records)           8  i32 length of the labels (UTF-8 bytes)
///        16  i32 count (records published)   16  labels, e.g. api="/classify",protocol="http" (at most 232 bytes)
///        20  i32 pid                        248  i64 value (added to atomically)
///        24  i64 process start, UTC ticks
/// </code>
/// One writer per file: a record is complete before the count that publishes it is written (release), and a
/// reader reads the count first (acquire), so it never sees half a record.
/// </summary>
internal static class MetricSegmentLayout
{
    public const ulong Magic = 0x3152544D_45525653; // "SRVMETR1" read little-endian
    public const int Version = 1;
    public const int HeaderBytes = 64;
    public const int RecordBytes = 256;
    public const int MaxLabelBytes = 232;
    public const int LabelsOffset = 16;
    public const int ValueOffset = 248;
    public const int CountOffset = 16;

    /// <summary>Records per segment: 4096 series of 256 bytes, 1 MiB, allocated by the file system only as written.</summary>
    public const int DefaultCapacity = 4096;

    /// <summary>The bucket number of a plain counter's or gauge's value.</summary>
    public const int ValueBucket = -1;

    /// <summary>The directory of the host's segments, next to its host.json.</summary>
    public static string DirectoryFor(string hostConfigPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(hostConfigPath)) ?? ".", MetricsFiles.DirectoryName);

    public const string Extension = ".seg";

    public static long FileBytes(int capacity) => HeaderBytes + (long)capacity * RecordBytes;

    /// <summary>Labels as stored: UTF-8, cut at a character boundary to fit (a longer one is a bug of ours).</summary>
    public static byte[] EncodeLabels(string labels)
    {
        var bytes = Encoding.UTF8.GetBytes(labels);
        if (bytes.Length > MaxLabelBytes)
            throw new ArgumentException($"metric labels longer than {MaxLabelBytes} bytes: {labels}", nameof(labels));
        return bytes;
    }
}
