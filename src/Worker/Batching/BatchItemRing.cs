namespace Serving.Worker.Batching;

/// <summary>
/// A dispatcher's queue, in arrival order: a ring that also holds items already completed while
/// queued (cancelled, timed out) until the loop passes them or a push needs their room. Not
/// thread-safe: the owning <see cref="BatchDispatcher"/> guards it with its lock.
/// </summary>
internal sealed class BatchItemRing(int capacity)
{
    private BatchItem?[] _items = new BatchItem?[capacity];
    private int _head;

    /// <summary>Items held, completed ones included.</summary>
    public int Length { get; private set; }

    /// <summary>The <paramref name="index"/>-th item from the oldest.</summary>
    public BatchItem this[int index] => _items[(_head + index) % _items.Length]!;

    /// <summary>Adds at the back; when full, first drops items no longer queued, then grows if still more than half full.</summary>
    public void Push(BatchItem item)
    {
        if (Length == _items.Length)
        {
            DropCompleted();
            if (Length * 2 > _items.Length)
            {
                var larger = new BatchItem?[_items.Length * 2];
                for (var i = 0; i < Length; i++)
                    larger[i] = this[i];
                _items = larger;
                _head = 0;
            }
        }
        _items[(_head + Length) % _items.Length] = item;
        Length++;
    }

    /// <summary>Removes the oldest item.</summary>
    public void PopOldest()
    {
        _items[_head] = null;
        _head = (_head + 1) % _items.Length;
        Length--;
    }

    public void Clear()
    {
        Array.Clear(_items);
        _head = 0;
        Length = 0;
    }

    /// <summary>Drops items no longer queued, keeping the order of the rest.</summary>
    private void DropCompleted()
    {
        var kept = 0;
        for (var i = 0; i < Length; i++)
        {
            var item = this[i];
            if (item.QueueState == BatchDispatcher.ItemState.Queued)
                _items[(_head + kept++) % _items.Length] = item;
        }
        for (var i = kept; i < Length; i++)
            _items[(_head + i) % _items.Length] = null;
        Length = kept;
    }
}
