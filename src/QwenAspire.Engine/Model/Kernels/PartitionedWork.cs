using System.Runtime.InteropServices;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>Work split into <c>parts</c> disjoint parts (a GEMV group, a decode attention step).</summary>
internal interface IPartitionedWork
{
    void Execute(int part, int parts);
}

/// <summary>
/// Runs <see cref="IPartitionedWork"/> on <see cref="GemvWorkers"/> (through its function-pointer form): decode
/// attention and grouped projections share the GEMV's threads, because on two cores a second pool (libtorch's
/// OpenMP, .NET's ThreadPool) waits for the core those workers are spinning on.
/// </summary>
internal static unsafe class PartitionedWork
{
    public static void Run(IPartitionedWork work, int parts)
    {
        if (parts <= 1)
        {
            work.Execute(0, 1);
            return;
        }
        var handle = GCHandle.Alloc(work);
        try
        {
            GemvWorkers.Shared.Run(&Execute, (void*)GCHandle.ToIntPtr(handle), parts);
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>
    /// Part <paramref name="part"/>'s output rows [o0, o1) of <paramref name="outF"/>: ranges of whole 16-float (64-byte)
    /// multiples, so threads never share a cache line of y. Empty (o0 == o1) when the part has nothing.
    /// </summary>
    public static (int O0, int O1) OutputRange(int outF, int part, int parts)
    {
        var chunk = ((outF + parts - 1) / parts + 15) & ~15;
        var o0 = Math.Min(outF, part * chunk);
        return (o0, Math.Min(outF, o0 + chunk));
    }

    private static void Execute(void* state, int part, int parts) =>
        ((IPartitionedWork)GCHandle.FromIntPtr((nint)state).Target!).Execute(part, parts);
}
