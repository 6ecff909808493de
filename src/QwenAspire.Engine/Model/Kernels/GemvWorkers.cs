using System.Diagnostics;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>
/// Persistent helper threads for <see cref="ReducedGemv"/>. A decode step issues ~200 small GEMVs, so a
/// hand-off must cost microseconds: workers spin briefly on a generation counter after each job (the next
/// GEMV usually follows within tens of µs), then sleep on a monitor. One job runs at a time; a caller that
/// finds the pool busy (another model forwarding concurrently) computes alone instead of queueing.
/// </summary>
internal sealed class GemvWorkers
{
    private static readonly TimeSpan SpinTime = TimeSpan.FromMicroseconds(
        int.TryParse(Environment.GetEnvironmentVariable("QWENASPIRE_GEMV_SPIN_US"), out var us) ? us : 500);
    private readonly object _busy = new();
    private readonly object _gate = new();
    private readonly List<Thread> _threads = [];
    private GemvJob _job;
    // Set instead of _job by the function-pointer form (kernels with their own argument block, e.g. QuantGemv).
    private unsafe delegate*<void*, int, int, void> _body;
    private unsafe void* _state;
    private int _parts;
    private long _posted;
    private int _pending;
    private int _sleeping;

    public static GemvWorkers Shared { get; } = new();

    /// <summary>Runs <paramref name="job"/> split into <paramref name="parts"/> (the caller takes part 0).</summary>
    public unsafe void Run(in GemvJob job, int parts)
    {
        if (parts <= 1 || !Monitor.TryEnter(_busy))
        {
            job.Execute(0, 1);
            return;
        }
        _job = job;
        _body = null;
        Post(parts);
    }

    /// <summary>
    /// Runs <c>body(state, part, parts)</c> for every part (the caller takes part 0); <paramref name="state"/> must stay
    /// valid until this returns. Same pool and hand-off as the <see cref="GemvJob"/> form.
    /// </summary>
    public unsafe void Run(delegate*<void*, int, int, void> body, void* state, int parts)
    {
        if (parts <= 1 || !Monitor.TryEnter(_busy))
        {
            body(state, 0, 1);
            return;
        }
        _body = body;
        _state = state;
        Post(parts);
    }

    /// <summary>Posts the job already stored (with <c>_busy</c> held), runs part 0 and waits for the others.</summary>
    private unsafe void Post(int parts)
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
            Execute(0, parts);
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
        }
        finally
        {
            Monitor.Exit(_busy);
        }
    }

    private unsafe void Execute(int part, int parts)
    {
        if (_body != null) _body(_state, part, parts);
        else _job.Execute(part, parts);
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
                Execute(index, parts);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
