using System.Collections;

namespace QwenAspire.Text.Templating;

/// <summary>
/// A Python dict: insertion-ordered, keys compared with Python equality (1 == 1.0 == True). Chat messages
/// hold a handful of keys, so entries live in parallel arrays searched linearly; a hash index is added
/// only for big dicts.
/// </summary>
internal sealed class PyDict : IEnumerable<KeyValuePair<object, object?>>
{
    private const int IndexThreshold = 12;
    private object[] _keys;
    private object?[] _values;
    private int _count;
    private Dictionary<object, int>? _index;

    public PyDict() : this(4) { }

    public PyDict(int capacity)
    {
        capacity = Math.Max(capacity, 1);
        _keys = new object[capacity];
        _values = new object?[capacity];
    }

    public int Count => _count;

    public IEnumerable<object> Keys => _keys.Take(_count);

    public IEnumerable<object?> Values => _values.Take(_count);

    public object? this[object key]
    {
        set
        {
            int i = Find(key);
            if (i >= 0) { _values[i] = value; return; }
            if (_count == _keys.Length)
            {
                Array.Resize(ref _keys, _count * 2);
                Array.Resize(ref _values, _count * 2);
            }
            _keys[_count] = key;
            _values[_count] = value;
            _index?.Add(key, _count);
            _count++;
            if (_index == null && _count > IndexThreshold)
            {
                _index = new Dictionary<object, int>(_count * 2, KeyComparer.Instance);
                for (int k = 0; k < _count; k++) _index[_keys[k]] = k;
            }
        }
    }

    public bool TryGetValue(object key, out object? value)
    {
        int i = Find(key);
        value = i >= 0 ? _values[i] : null;
        return i >= 0;
    }

    public bool ContainsKey(object key) => Find(key) >= 0;

    private int Find(object key)
    {
        if (_index != null) return _index.TryGetValue(key, out int at) ? at : -1;
        if (key is string s)
        {
            for (int i = 0; i < _count; i++)
                if (_keys[i] is string k && (ReferenceEquals(k, s) || string.Equals(k, s, StringComparison.Ordinal))) return i;
            return -1;
        }
        for (int i = 0; i < _count; i++)
            if (KeyComparer.Instance.Equals(_keys[i], key)) return i;
        return -1;
    }

    public IEnumerator<KeyValuePair<object, object?>> GetEnumerator()
    {
        for (int i = 0; i < _count; i++) yield return new(_keys[i], _values[i]);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public static object Key(object? key) => key switch
    {
        null => throw new PyError("None is not supported as a dict key here"),
        Undefined u => throw u.Fail(),
        List<object?> or PyDict or Namespace => throw new PyError($"unhashable type: '{Py.TypeName(key)}'"),
        _ => key,
    };

    private sealed class KeyComparer : IEqualityComparer<object>
    {
        public static readonly KeyComparer Instance = new();

        public new bool Equals(object? x, object? y) => x is string sx ? y is string sy && string.Equals(sx, sy, StringComparison.Ordinal) : Py.Equal(x, y);

        public int GetHashCode(object obj) => obj switch
        {
            string s => string.GetHashCode(s, StringComparison.Ordinal),
            bool b => b ? 1 : 0,
            long l => l.GetHashCode(),
            double d when d == Math.Floor(d) && Math.Abs(d) < 9e18 => ((long)d).GetHashCode(),
            _ => obj.GetHashCode(),
        };
    }
}
