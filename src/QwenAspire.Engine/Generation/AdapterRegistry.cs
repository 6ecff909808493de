namespace QwenAspire.Engine.Generation;

/// <summary>One served adapter: the runner's slot, an id unique to this load, and how many requests hold it.</summary>
internal sealed class AdapterEntry(string name, int slot, long id)
{
    public string Name { get; } = name;
    public int Slot { get; } = slot;
    /// <summary>Unique per load (never 0, the base model's): part of every KV block hash of its sequences.</summary>
    public long Id { get; } = id;
    /// <summary>Requests submitted for it and not yet finished (guarded by the registry's lock).</summary>
    public int InUse { get; set; }
}

/// <summary>
/// The adapter names requests may use, shared by the request threads (resolve at submission) and the
/// engine thread (load/unload between steps). A name leaves at once on unload, so no new request gets it,
/// while the entry lives on for the requests already holding it.
/// </summary>
internal sealed class AdapterRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, AdapterEntry> _byName = new(StringComparer.Ordinal);
    private readonly HashSet<string> _loading = new(StringComparer.Ordinal);
    private long _lastId;

    public IReadOnlyCollection<string> Names
    {
        get { lock (_lock) return [.. _byName.Keys.Order(StringComparer.Ordinal)]; }
    }

    public AdapterEntry Add(string name, int slot)
    {
        lock (_lock)
        {
            var entry = new AdapterEntry(name, slot, ++_lastId);
            _byName.Add(name, entry);
            _loading.Remove(name);
            return entry;
        }
    }

    /// <summary>Resolves <paramref name="name"/> and counts the request in, or throws listing what is loaded.</summary>
    public AdapterEntry Acquire(string name)
    {
        lock (_lock)
        {
            if (!_byName.TryGetValue(name, out var entry)) throw Unknown(name);
            entry.InUse++;
            return entry;
        }
    }

    /// <summary>Throws for an unknown name without counting anything in (early validation).</summary>
    public void EnsureKnown(string name)
    {
        lock (_lock)
            if (!_byName.ContainsKey(name)) throw Unknown(name);
    }

    private ArgumentException Unknown(string name) =>
        new($"Unknown adapter '{name}'; loaded: [{string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal))}].", "Adapter");

    public void Release(AdapterEntry entry)
    {
        lock (_lock) entry.InUse--;
    }

    public bool IsIdle(AdapterEntry entry)
    {
        lock (_lock) return entry.InUse == 0;
    }

    /// <summary>Claims <paramref name="name"/> for a load in progress; false when it is loaded or being loaded.</summary>
    public bool TryReserve(string name)
    {
        lock (_lock) return !_byName.ContainsKey(name) && _loading.Add(name);
    }

    public void CancelReservation(string name)
    {
        lock (_lock) _loading.Remove(name);
    }

    /// <summary>Stops serving <paramref name="name"/>; returns its entry, or null when it is not loaded.</summary>
    public AdapterEntry? Remove(string name)
    {
        lock (_lock) return _byName.Remove(name, out var entry) ? entry : null;
    }

    public AdapterEntry? Find(string name)
    {
        lock (_lock) return _byName.GetValueOrDefault(name);
    }
}
