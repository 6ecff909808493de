using System.Runtime.InteropServices;

namespace QwenAspire.Engine.Sampling;

/// <summary>A token that survived filtering so far, with its temperature-scaled logit.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct Candidate(float Logit, int Id);

/// <summary>
/// Strict total order "better first": higher logit, then lower id. With no two candidates equal, every
/// selection or sort gives one answer, so seeded sampling does not depend on algorithm details.
/// </summary>
internal readonly struct BetterFirst : IComparer<Candidate>
{
    public int Compare(Candidate a, Candidate b) =>
        a.Logit > b.Logit ? -1 : a.Logit < b.Logit ? 1 : a.Id.CompareTo(b.Id);
}

/// <summary>Partial selection so top-k/top-p never sort the whole vocabulary.</summary>
internal static class CandidateSelection
{
    /// <summary>Reorders <paramref name="items"/> so its first <paramref name="k"/> are the best k (in no order).</summary>
    public static void SelectBest(Span<Candidate> items, int k)
    {
        if (k <= 0 || k >= items.Length) return;
        var cmp = default(BetterFirst);
        int lo = 0, hi = items.Length - 1;
        while (hi > lo)
        {
            // Median of three keeps the pivot deterministic and avoids the sorted-input worst case.
            var mid = lo + ((hi - lo) >> 1);
            if (cmp.Compare(items[mid], items[lo]) < 0) Swap(items, mid, lo);
            if (cmp.Compare(items[hi], items[lo]) < 0) Swap(items, hi, lo);
            if (cmp.Compare(items[hi], items[mid]) < 0) Swap(items, hi, mid);
            var pivot = items[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (cmp.Compare(items[i], pivot) < 0) i++;
                while (cmp.Compare(pivot, items[j]) < 0) j--;
                if (i <= j) { Swap(items, i, j); i++; j--; }
            }
            // Now [lo..j] are better than or equal to pivot and [i..hi] worse or equal; narrow to the side holding index k-1.
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else return;
        }
    }

    private static void Swap(Span<Candidate> s, int a, int b) => (s[a], s[b]) = (s[b], s[a]);
}
