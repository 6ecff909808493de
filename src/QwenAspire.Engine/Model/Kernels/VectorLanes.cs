using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>One SIMD width for <see cref="GemvBlocks"/>; structs so the JIT specializes and inlines each width.</summary>
internal unsafe interface IVectorLanes<TV> where TV : struct
{
    /// <summary>f32 lanes per vector; one weight step covers 2·Count elements (lo and hi halves).</summary>
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract TV Load(float* p);
    static abstract void Store(TV v, float* p);
    static abstract void LoadWeights<TF>(ushort* p, out TV lo, out TV hi) where TF : IWeightFormat;
    static abstract TV Broadcast(float value);
    static abstract TV Fma(TV a, TV b, TV acc);
    static abstract TV Add(TV a, TV b);
    static abstract TV Mul(TV a, TV b);
    static abstract float Sum(TV v);
}

internal unsafe readonly struct Lanes256 : IVectorLanes<Vector256<float>>
{
    public static int Count => 8;
    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWeights<TF>(ushort* p, out Vector256<float> lo, out Vector256<float> hi) where TF : IWeightFormat
    {
        if (Avx2.IsSupported)
        {
            // vpmovzxwd straight from memory: no shuffle of a 256-bit load.
            lo = TF.Widen(Avx2.ConvertToVector256Int32(p).AsUInt32());
            hi = TF.Widen(Avx2.ConvertToVector256Int32(p + 8).AsUInt32());
            return;
        }
        var (l, h) = Vector256.Widen(Vector256.Load(p));
        lo = TF.Widen(l);
        hi = TF.Widen(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> acc) => Vector256.FusedMultiplyAdd(a, b, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v) => Vector256.Sum(v);
}

internal unsafe readonly struct Lanes512 : IVectorLanes<Vector512<float>>
{
    public static int Count => 16;
    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadWeights<TF>(ushort* p, out Vector512<float> lo, out Vector512<float> hi) where TF : IWeightFormat
    {
        if (Avx512F.IsSupported)
        {
            lo = TF.Widen(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)));
            hi = TF.Widen(Avx512F.ConvertToVector512UInt32(Vector256.Load(p + 16)));
            return;
        }
        var (l, h) = Vector512.Widen(Vector512.Load(p));
        lo = TF.Widen(l);
        hi = TF.Widen(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> acc) => Vector512.FusedMultiplyAdd(a, b, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v) => Vector512.Sum(v);
}
