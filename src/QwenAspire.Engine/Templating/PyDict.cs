namespace QwenAspire.Engine.Templating;

/// <summary>A Python dict: insertion-ordered, keys compared with Python equality (1 == 1.0 == True).</summary>
internal sealed class PyDict : OrderedDictionary<object, object?>
{
    public PyDict() : base(KeyComparer.Instance) { }

    public PyDict(int capacity) : base(capacity, KeyComparer.Instance) { }

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
