using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace Serving.Worker.Metrics;

/// <summary>One worker's segment, mapped read-only by the worker answering a scrape.</summary>
internal sealed unsafe class MetricSegmentReader : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly int _capacity;
    // A record never changes once published but for its value: its labels are decoded once.
    private readonly List<(int Family, int Bucket, string Labels)> _keys = new();

    private MetricSegmentReader(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, byte* @base, int capacity)
    {
        Path = path;
        _file = file;
        _view = view;
        _base = @base;
        _capacity = capacity;
        var header = new ReadOnlySpan<byte>(_base, MetricSegmentLayout.HeaderBytes);
        Pid = BinaryPrimitives.ReadInt32LittleEndian(header[20..]);
        StartTicks = BinaryPrimitives.ReadInt64LittleEndian(header[24..]);
    }

    public string Path { get; }

    /// <summary>The writer's process id.</summary>
    public int Pid { get; }

    /// <summary>The writer's start time (UTC ticks).</summary>
    public long StartTicks { get; }

    /// <summary>Maps a segment; null when the file is not one (yet): too short, or its header not written.</summary>
    public static MetricSegmentReader? Open(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        using (stream)
        {
            if (stream.Length < MetricSegmentLayout.HeaderBytes)
                return null;
            var length = stream.Length;
            var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            var @base = pointer + view.PointerOffset;
            var header = new ReadOnlySpan<byte>(@base, MetricSegmentLayout.HeaderBytes);
            var capacity = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            if (Volatile.Read(ref *(ulong*)@base) != MetricSegmentLayout.Magic
                || BinaryPrimitives.ReadInt32LittleEndian(header[8..]) != MetricSegmentLayout.Version
                || MetricSegmentLayout.FileBytes(capacity) > length)
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
                file.Dispose();
                return null;
            }
            return new MetricSegmentReader(path, file, view, @base, capacity);
        }
    }

    /// <summary>
    /// Whether the writer still runs: its pid names a process that started when it did (a pid is reused
    /// by a later process only with another start time).
    /// </summary>
    public bool WriterIsAlive()
    {
        if (Pid == Environment.ProcessId)
            return true;
        try
        {
            using var process = Process.GetProcessById(Pid);
            return Math.Abs(MetricSegment.ProcessStartTicks(process) - StartTicks) < TimeSpan.TicksPerSecond;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Calls <paramref name="visit"/> with every published record and its value now.</summary>
    public void Read(Action<int, int, string, long> visit)
    {
        var count = Math.Min(Volatile.Read(ref *(int*)(_base + MetricSegmentLayout.CountOffset)), _capacity);
        for (var i = _keys.Count; i < count; i++)
        {
            var record = new ReadOnlySpan<byte>(RecordAt(i), MetricSegmentLayout.RecordBytes);
            var length = Math.Clamp(BinaryPrimitives.ReadInt32LittleEndian(record[8..]), 0, MetricSegmentLayout.MaxLabelBytes);
            _keys.Add((BinaryPrimitives.ReadInt32LittleEndian(record), BinaryPrimitives.ReadInt32LittleEndian(record[4..]),
                Encoding.UTF8.GetString(record.Slice(MetricSegmentLayout.LabelsOffset, length))));
        }
        for (var i = 0; i < count; i++)
        {
            var (family, bucket, labels) = _keys[i];
            visit(family, bucket, labels, Volatile.Read(ref *(long*)(RecordAt(i) + MetricSegmentLayout.ValueOffset)));
        }
    }

    private byte* RecordAt(int index) => _base + MetricSegmentLayout.HeaderBytes + (long)index * MetricSegmentLayout.RecordBytes;

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
