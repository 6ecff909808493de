namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// Several GEMVs on the same activations (q/k/v, gate/up) as one hand-off to <see cref="GemvWorkers"/>: each
/// worker takes its share of every job in turn, so the group costs one wake-up and one final wait instead of one
/// per projection, and the small k/v projections no longer end in a barrier of their own.
/// </summary>
internal sealed class GemvGroup(GemvJob[] jobs) : IPartitionedWork
{
    /// <summary>Below this many weights in total one thread does it all (as <see cref="ReducedGemv"/>).</summary>
    private const long ParallelAbove = 65536;

    public void Execute(int part, int parts)
    {
        foreach (var job in jobs) job.Execute(part, parts);
    }

    /// <summary>Runs every job on up to <paramref name="threads"/> threads; <paramref name="weights"/> is their total weight count.</summary>
    public void Run(long weights, int threads) => PartitionedWork.Run(this, weights < ParallelAbove ? 1 : Math.Max(1, threads));
}
