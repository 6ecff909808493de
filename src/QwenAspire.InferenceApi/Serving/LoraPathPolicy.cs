namespace QwenAspire.InferenceApi.Serving;

/// <summary>
/// Confines a client's <c>lora_path</c> to the configured roots (<c>engine.lora_roots</c>): the server must never
/// read a file a client names outside them. A path is checked twice: as written (so a path outside the roots is
/// refused without saying whether it exists) and after following every symbolic link on it, and the links in the
/// adapter folder itself, the way the kernel would.
/// </summary>
public sealed class LoraPathPolicy
{
    private const int MaxLinkHops = 40; // Linux's own limit (ELOOP)
    private static readonly char[] s_separators = ['/', '\\'];
    private static readonly StringComparison s_comparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly string[] _roots;

    public LoraPathPolicy(IEnumerable<string> roots) => _roots = [.. roots.Select(r => Path.GetFullPath(r))];

    /// <summary>Resolves <paramref name="requested"/> (absolute, or relative to a root) to a real adapter folder under a root.</summary>
    /// <returns>The folder to load (every link resolved), or null with <paramref name="error"/> naming the problem.</returns>
    public string? Resolve(string requested, out string? error)
    {
        error = Check(requested, out var folder);
        return error is null ? folder : null;
    }

    private string? Check(string requested, out string? folder)
    {
        folder = null;
        if (string.IsNullOrWhiteSpace(requested)) return "'lora_path' must not be empty.";
        if (requested.Any(char.IsControl)) return "'lora_path' contains a control character.";
        // Refused outright, not normalised away: "a/../../etc" must not depend on which folders happen to exist.
        if (requested.Split(s_separators).Any(segment => segment == ".."))
            return "'lora_path' must not contain '..' segments.";

        string[] candidates;
        if (Path.IsPathFullyQualified(requested)) candidates = [Path.GetFullPath(requested)];
        else if (Path.IsPathRooted(requested)) return "'lora_path' must be an absolute path or a path relative to a folder of engine.lora_roots.";
        else candidates = [.. _roots.Select(r => Path.GetFullPath(Path.Combine(r, requested)))];

        var inside = candidates.Where(c => _roots.Any(r => IsUnder(c, r))).ToList();
        if (inside.Count == 0)
            return $"'lora_path' '{requested}' is outside the folders adapters may be loaded from (engine.lora_roots).";
        // A relative path may exist under a later root only.
        string? real = inside.Select(RealPath).FirstOrDefault(r => r is not null);
        if (real is null) return $"'lora_path' '{requested}': no such folder under engine.lora_roots.";
        // The roots' own links are followed now, not at start: a root re-pointed since start is judged as it is.
        var realRoots = _roots.Select(RealPath).OfType<string>().ToList();
        if (!UnderAny(real, realRoots))
            return $"'lora_path' '{requested}' leads outside engine.lora_roots through a symbolic link.";
        if (!Directory.Exists(real))
            return $"'lora_path' '{requested}' is a file; it must be a PEFT adapter folder (adapter_config.json, adapter_model.safetensors).";
        foreach (var entry in Directory.EnumerateFileSystemEntries(real))
        {
            if (new FileInfo(entry).LinkTarget is null) continue;
            if (RealPath(entry) is not { } target || !UnderAny(target, realRoots))
                return $"'lora_path' '{requested}': '{Path.GetFileName(entry)}' is a symbolic link that leads outside engine.lora_roots or nowhere.";
        }
        folder = real;
        return null;
    }

    private static bool UnderAny(string real, List<string> roots) => roots.Any(root => IsUnder(real, root));

    internal static bool IsUnder(string path, string root)
    {
        string trimmed = root.Length > 1 ? root.TrimEnd(s_separators) : root;
        if (string.Equals(path, trimmed, s_comparison)) return true;
        string prefix = trimmed.EndsWith(Path.DirectorySeparatorChar) ? trimmed : trimmed + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, s_comparison);
    }

    /// <summary>
    /// The path with every symbolic link on it followed, component by component (a link's target may itself go
    /// through links or "..", which then applies to the real parent, as in the kernel); null if it does not exist.
    /// </summary>
    internal static string? RealPath(string fullPath)
    {
        string root = Path.GetPathRoot(fullPath)!;
        var pending = new Stack<string>(fullPath[root.Length..].Split(s_separators, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int hops = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }
            string next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                if (++hops > MaxLinkHops) return null;
                string targetRoot = Path.IsPathFullyQualified(target) ? Path.GetPathRoot(target)! : "";
                foreach (var piece in target[targetRoot.Length..].Split(s_separators, StringSplitOptions.RemoveEmptyEntries).Reverse())
                    pending.Push(piece);
                if (targetRoot.Length > 0) current = targetRoot; // absolute target: restart from its root
                continue;                                         // relative target: resolved from the link's folder
            }
            if (!info.Exists && !Directory.Exists(next)) return null;
            current = next;
        }
        return current;
    }
}
