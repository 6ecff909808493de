using System.Diagnostics;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>Work split into <c>parts</c> disjoint parts (a GEMV group, an attention step) for <see cref="GemvWorkers"/>.</summary>
internal interface IPartitionedWork
{
    void Execute(int part, int parts);
}

/// <summary>
/// Persistent helper threads for <see cref="ReducedGemv"/>. A decode step issues ~200 small GEMVs, so a
/// hand-off must cost microseconds: workers spin briefly on a generation counter after each job (the next
/// GEMV usually follows within tens of µs), then sleep on a monitor. One job runs at a time; a caller that
/// finds the pool busy (another model forwarding concurrently) computes alone instead of queueing. Decode
/// attention and grouped projections run here too: on two cores a second pool (libtorch's OpenMP, .NET's
/// ThreadPool) would wait for the core these workers spin on.
/// </summary>
internal sealed class GemvWorkers
{
    private static readonly TimeSpan SpinTime = TimeSpan.FromMicroseconds(
        int.TryParse(Environment.GetEnvironmentVariable("QWENASPIRE_GEMV_SPIN_US"), out var us) ? us : 500);
    private readonly object _busy = new();
    private readonly object _gate = new();
    private readonly List<Thread> _threads = [];
    private GemvJob _job;
    private IPartitionedWork? _work;
    private int _parts;
    private long _posted;
    private int _pending;
    private int _sleeping;

    public static GemvWorkers Shared { get; } = new();

    /// <summary>Runs <paramref name="job"/> split into <paramref name="parts"/> (the caller takes part 0).</summary>
    public void Run(in GemvJob job, int parts)
    {
        if (parts <= 1 || !Monitor.TryEnter(_busy))
        {
            job.Execute(0, 1);
            return;
        }
        _job = job;
        _work = null;
        Post(parts, job);
    }

    /// <summary>Runs <paramref name="work"/> split into <paramref name="parts"/> (the caller takes part 0).</summary>
    public void Run(IPartitionedWork work, int parts)
    {
        if (parts <= 1 || !Monitor.TryEnter(_busy))
        {
            work.Execute(0, 1);
            return;
        }
        _work = work;
        Post(parts, work);
    }

    /// <summary>With <see cref="_busy"/> held and the work stored: wakes the workers, runs part 0, waits, releases.</summary>
    private void Post<TWork>(int parts, in TWork work) where TWork : IPartitionedWork
    {
        try
        {
            while (_threads.Count < parts - 1) Start(_threads.Count + 1);
            _parts = parts;
            Volatile.Write(ref _pending, parts - 1);
            Interlocked.Increment(ref _posted); // full fence: job fields are visible before the new generation
            if (Volatile.Read(ref _sleeping) > 0)
            {
                lock (_gate) Monitor.PulseAll(_gate);
            }
            work.Execute(0, parts);
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
        }
        finally
        {
            _work = null;
            Monitor.Exit(_busy);
        }
    }

    private void Start(int index)
    {
        // The first generation a worker waits for is the next one posted, read here before Run posts it.
        var seen = Volatile.Read(ref _posted);
        var thread = new Thread(() => Loop(index, seen)) { IsBackground = true, Name = $"gemv-worker-{index}" };
        _threads.Add(thread);
        thread.Start();
    }

    private void Loop(int index, long seen)
    {
        while (true)
        {
            long posted;
            var since = Stopwatch.GetTimestamp();
            while ((posted = Volatile.Read(ref _posted)) == seen)
            {
                if (Stopwatch.GetElapsedTime(since) < SpinTime)
                {
                    Thread.SpinWait(8);
                    continue;
                }
                lock (_gate)
                {
                    // Dekker pairing with Run: sleeping is raised (full fence) before posted is re-read.
                    Interlocked.Increment(ref _sleeping);
                    while (Volatile.Read(ref _posted) == seen) Monitor.Wait(_gate);
                    Interlocked.Decrement(ref _sleeping);
                }
                since = Stopwatch.GetTimestamp();
            }
            seen = posted;
            var parts = _parts;
            if (index >= parts) continue;
            try
            {
                if (_work is { } work) work.Execute(index, parts);
                else _job.Execute(index, parts);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
