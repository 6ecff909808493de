using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QwenAspire.Engine.Model.Kernels;

/// <summary>How one KV pool element type loads as f32 lanes (bf16 widens exactly by a shift).</summary>
internal interface IKvElement
{
    static abstract bool IsBf16 { get; }
}

internal readonly struct F32Kv : IKvElement
{
    public static bool IsBf16 => false;
}

internal readonly struct Bf16Kv : IKvElement
{
    public static bool IsBf16 => true;
}

/// <summary>One SIMD width for <see cref="PagedAttentionKernel"/>; structs so the JIT specializes each width.</summary>
internal unsafe interface IAttentionLanes<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract TV Load(float* p);
    static abstract void Store(float* p, TV v);
    /// <summary>Count elements of the pool at element index <paramref name="i"/>, as f32.</summary>
    static abstract TV LoadKv<TK>(void* pool, long i) where TK : IKvElement;
    static abstract TV Broadcast(float value);
    static abstract TV Fma(TV a, TV b, TV acc);
    static abstract TV Add(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);
    static abstract TV Max(TV a, TV b);
    static abstract TV Exp(TV v);
    static abstract float Sum(TV v);
    static abstract float MaxAcross(TV v);
}

internal unsafe readonly struct Lanes512Kv : IAttentionLanes<Vector512<float>>
{
    public static int Count => 16;
    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector512<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadKv<TK>(void* pool, long i) where TK : IKvElement =>
        TK.IsBf16
            ? Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)pool + i)), 16).AsSingle()
            : Vector512.Load((float*)pool + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> acc) => Vector512.FusedMultiplyAdd(a, b, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> v) => Vector512.Exp(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v) => Vector512.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector512<float> v)
    {
        var max = float.NegativeInfinity;
        for (var i = 0; i < Vector512<float>.Count; i++) max = Math.Max(max, v.GetElement(i));
        return max;
    }
}

internal unsafe readonly struct Lanes256Kv : IAttentionLanes<Vector256<float>>
{
    public static int Count => 8;
    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector256<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadKv<TK>(void* pool, long i) where TK : IKvElement =>
        TK.IsBf16
            ? Vector256.ShiftLeft(Avx2.ConvertToVector256Int32((ushort*)pool + i).AsUInt32(), 16).AsSingle()
            : Vector256.Load((float*)pool + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> acc) => Vector256.FusedMultiplyAdd(a, b, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> v) => Vector256.Exp(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v) => Vector256.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector256<float> v)
    {
        var max = float.NegativeInfinity;
        for (var i = 0; i < Vector256<float>.Count; i++) max = Math.Max(max, v.GetElement(i));
        return max;
    }
}
