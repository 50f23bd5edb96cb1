using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.MemoryMappedFiles;

namespace Serving.Worker.Metrics;

/// <summary>
/// This worker's metrics, written straight into a memory-mapped file (<see cref="MetricSegmentLayout"/>): a
/// request costs a few atomic adds and no lock, and whichever API worker answers a scrape reads every worker's
/// file and adds them up. The file outlives the process, so a dead or replaced worker's counts stay in the
/// totals until the host stops (its state directory goes then).
/// </summary>
internal sealed unsafe class MetricSegment : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly int _capacity;
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Family, int Bucket, string Labels), MetricCell> _cells = new();
    private int _count;

    private MetricSegment(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, int capacity)
    {
        Path = path;
        _file = file;
        _view = view;
        _capacity = capacity;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + view.PointerOffset;
    }

    /// <summary>The segment's file.</summary>
    public string Path { get; }

    /// <summary>Series that did not fit (their changes are dropped; each is counted once).</summary>
    public int Dropped { get; private set; }

    /// <summary>
    /// Creates <c>&lt;worker&gt;-&lt;pid&gt;.seg</c> in <paramref name="directory"/>, which is created if missing — but not
    /// its parent: throws <see cref="DirectoryNotFoundException"/> when that is gone.
    /// </summary>
    public static MetricSegment Create(string directory, string worker, int capacity = MetricSegmentLayout.DefaultCapacity)
    {
        // The parent is the host's state directory: the supervisor's, made before any worker starts and removed when
        // the host stops. A worker that starts as it stops (a successor, a respawn) must not bring it back, or it
        // would be left in the temp directory with nobody to remove it.
        var parent = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(directory));
        if (parent is not null && !Directory.Exists(parent))
            throw new DirectoryNotFoundException($"the host's state directory '{parent}' is gone (the host is stopping)");
        Directory.CreateDirectory(directory);
        var bytes = MetricSegmentLayout.FileBytes(capacity);
        var (path, stream) = CreateNewFile(directory, $"{worker}-{Environment.ProcessId}");
        MemoryMappedFile file;
        using (stream)
        {
            stream.SetLength(bytes);
            file = MemoryMappedFile.CreateFromFile(stream, null, bytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        }
        var view = file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
        var segment = new MetricSegment(path, file, view, capacity);
        segment.WriteHeader();
        return segment;
    }

    /// <summary>
    /// A new file, never an existing one: a file left by an earlier process that had the same pid holds counts
    /// that are part of the totals.
    /// </summary>
    private static (string Path, FileStream Stream) CreateNewFile(string directory, string name)
    {
        for (var attempt = 1; ; attempt++)
        {
            var path = System.IO.Path.Combine(directory, (attempt == 1 ? name : $"{name}-{attempt}") + MetricSegmentLayout.Extension);
            try
            {
                return (path, new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete));
            }
            catch (IOException) when (File.Exists(path) && attempt < 100)
            {
            }
        }
    }

    private void WriteHeader()
    {
        var header = new Span<byte>(_base, MetricSegmentLayout.HeaderBytes);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], MetricSegmentLayout.Version);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], _capacity);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], Environment.ProcessId);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], ProcessStartTicks(Process.GetCurrentProcess()));
        // The magic last: a reader takes the file for a segment only once the rest of the header is there.
        Volatile.Write(ref *(ulong*)_base, MetricSegmentLayout.Magic);
    }

    /// <summary>A process's start time as stored in a header (UTC ticks), to tell it from a later process with the same pid.</summary>
    public static long ProcessStartTicks(Process process) => process.StartTime.ToUniversalTime().Ticks;

    /// <summary>
    /// The cell of one series (<paramref name="bucket"/> <see cref="MetricSegmentLayout.ValueBucket"/> for a plain
    /// value), added on first use; <see cref="MetricCell.None"/> when the segment is full.
    /// </summary>
    public MetricCell Cell(MetricFamily family, int bucket, string labels)
    {
        lock (_gate)
        {
            var key = (family.Id, bucket, labels);
            if (_cells.TryGetValue(key, out var cell))
                return cell;
            if (_count == _capacity)
            {
                Dropped++;
                _cells[key] = MetricCell.None;
                return MetricCell.None;
            }
            var encoded = MetricSegmentLayout.EncodeLabels(labels);
            var record = _base + MetricSegmentLayout.HeaderBytes + (long)_count * MetricSegmentLayout.RecordBytes;
            var span = new Span<byte>(record, MetricSegmentLayout.RecordBytes);
            BinaryPrimitives.WriteInt32LittleEndian(span, family.Id);
            BinaryPrimitives.WriteInt32LittleEndian(span[4..], bucket);
            BinaryPrimitives.WriteInt32LittleEndian(span[8..], encoded.Length);
            encoded.CopyTo(span[MetricSegmentLayout.LabelsOffset..]);
            cell = new MetricCell((long*)(record + MetricSegmentLayout.ValueOffset));
            _count++;
            // Publishes the record: written in full before the count that shows it.
            Volatile.Write(ref *(int*)(_base + MetricSegmentLayout.CountOffset), _count);
            _cells[key] = cell;
            return cell;
        }
    }

    /// <summary>The cells of one histogram series: its buckets (+Inf last) and its sum.</summary>
    public HistogramCells Histogram(MetricFamily family, string labels)
    {
        if (family.Kind != MetricKind.Histogram)
            throw new ArgumentException($"'{family.Name}' is not a histogram", nameof(family));
        var buckets = new MetricCell[family.UpperBounds.Length + 1];
        for (var i = 0; i < buckets.Length; i++)
            buckets[i] = Cell(family, i, labels);
        return new HistogramCells(family, buckets, Cell(family, buckets.Length, labels));
    }

    /// <summary>Unmaps the file (the file stays: its counts are part of the host's totals).</summary>
    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
