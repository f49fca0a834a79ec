namespace MiniNet;

/// <summary>How <see cref="Distributed.AllReduce(Span{float}, ReduceOp)"/> combines the ranks' values.</summary>
public enum ReduceOp
{
    /// <summary>The sum over ranks.</summary>
    Sum,

    /// <summary>The sum divided by the number of ranks.</summary>
    Average,

    /// <summary>The largest value.</summary>
    Max,

    /// <summary>The smallest value.</summary>
    Min,
}

/// <summary>Data-parallel training across processes and machines on Open MPI (PyTorch's <c>torch.distributed</c> names):
/// the process's rank and the world's size, and collectives on spans and tensors.</summary>
/// <remarks>
/// <para>Under <c>mpirun</c> (Open MPI sets <c>OMPI_COMM_WORLD_SIZE</c>) <see cref="Init"/> starts MPI, and the ranks on
/// one machine divide its cores between them (<see cref="Threads.MaxCount"/>); otherwise the
/// process is a world of one and every collective leaves its values as they are, so a training script runs unchanged
/// on a laptop without MPI installed. After <see cref="Init"/> under MPI, an exception that nothing catches ends the
/// whole job (MPI_Abort) with its message on standard error, so no rank is left waiting in a collective.</para>
/// <para>Every collective first checks, in one small all-reduce, that all ranks pass the same length (a rank that
/// passes another gets an <see cref="InvalidOperationException"/> on every rank instead of corrupt memory). Every rank
/// must call the collectives in the same order. The binding is a thin P/Invoke layer over Open MPI's C API (docs/distributed.md).</para>
/// </remarks>
public static class Distributed
{
    private static OpenMpi? s_mpi;
    private static readonly object s_lock = new();

    /// <summary>Whether <see cref="Init"/> has run.</summary>
    public static bool IsInitialized { get; private set; }

    /// <summary>Whether the world is an MPI job (false: a world of one).</summary>
    public static bool IsMpi => s_mpi is not null;

    /// <summary>This process's rank, 0 to <see cref="WorldSize"/> − 1.</summary>
    public static int Rank { get; private set; }

    /// <summary>The number of processes.</summary>
    public static int WorldSize { get; private set; } = 1;

    /// <summary>Whether this is rank 0, the one that writes checkpoints and logs.</summary>
    public static bool IsMain => Rank == 0;

    /// <summary>Joins the job: starts MPI under <c>mpirun</c>, else makes a world of one. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">Started by <c>mpirun</c>, but Open MPI's library cannot be loaded.</exception>
    public static void Init()
    {
        lock (s_lock)
        {
            if (IsInitialized) return;
            if (Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 })
            {
                OpenMpi mpi = OpenMpi.TryLoad(out string? reason)
                    ?? throw new InvalidOperationException($"Distributed: started by mpirun, but {reason}.");
                mpi.Init();
                (Rank, WorldSize) = (mpi.Rank(), mpi.Size());
                s_mpi = mpi;
                // Ranks on one machine share its cores (as torchrun sets OMP_NUM_THREADS): each takes its part, unless
                // the script set Threads.MaxCount itself afterwards.
                if (int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out int local) && local > 1)
                    Threads.MaxCount = Math.Max(1, Environment.ProcessorCount / local);
                AppDomain.CurrentDomain.UnhandledException += (_, e) =>
                {
                    Console.Error.WriteLine($"rank {Rank}: {e.ExceptionObject}");
                    Console.Error.Flush();
                    mpi.Abort(1);
                };
                AppDomain.CurrentDomain.ProcessExit += (_, _) => mpi.FinalizeOnce();
            }
            IsInitialized = true;
        }
    }

    /// <summary>Ends the whole job at once with <paramref name="code"/> (MPI_Abort; a world of one exits).</summary>
    public static void Abort(int code = 1)
    {
        if (s_mpi is { } mpi) mpi.Abort(code);
        Environment.Exit(code);
    }

    private static OpenMpi? Mpi()
    {
        if (!IsInitialized) throw new InvalidOperationException("Distributed: call Distributed.Init() first.");
        return s_mpi;
    }

    /// <summary>Combines <paramref name="values"/> over every rank, in place, so that each rank holds the result.</summary>
    /// <exception cref="InvalidOperationException">Not initialized, or the ranks passed different lengths.</exception>
    public static void AllReduce(Span<float> values, ReduceOp op = ReduceOp.Sum)
    {
        Exchange(values, static m => m.Float, op, root: -1, "AllReduce");
        if (op == ReduceOp.Average) System.Numerics.Tensors.TensorPrimitives.Multiply(values, 1f / WorldSize, values);
    }

    /// <summary>Combines <paramref name="values"/> over every rank, in place.</summary>
    public static void AllReduce(Span<double> values, ReduceOp op = ReduceOp.Sum)
    {
        Exchange(values, static m => m.Double, op, root: -1, "AllReduce");
        if (op == ReduceOp.Average) System.Numerics.Tensors.TensorPrimitives.Multiply(values, 1.0 / WorldSize, values);
    }

    /// <summary>Combines <paramref name="values"/> over every rank, in place (Average rounds toward zero).</summary>
    public static void AllReduce(Span<long> values, ReduceOp op = ReduceOp.Sum)
    {
        Exchange(values, static m => m.Long, op, root: -1, "AllReduce");
        if (op == ReduceOp.Average) for (int i = 0; i < values.Length; i++) values[i] /= WorldSize;
    }

    /// <summary>Combines <paramref name="values"/> over every rank, in place (Average rounds toward zero).</summary>
    public static void AllReduce(Span<int> values, ReduceOp op = ReduceOp.Sum)
    {
        Exchange(values, static m => m.Int, op, root: -1, "AllReduce");
        if (op == ReduceOp.Average) for (int i = 0; i < values.Length; i++) values[i] /= WorldSize;
    }

    /// <summary>Combines a tensor's values (float32 or int64) over every rank, in place.</summary>
    public static void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DType == DType.Int64) AllReduce(tensor.Int64Data, op);
        else AllReduce(tensor.Data, op);
    }

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="values"/> to every rank.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A root outside the world.</exception>
    public static void Broadcast(Span<float> values, int root = 0) => Exchange(values, static m => m.Float, ReduceOp.Sum, CheckedRoot(root), "Broadcast");

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="values"/> to every rank.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A root outside the world.</exception>
    public static void Broadcast(Span<long> values, int root = 0) => Exchange(values, static m => m.Long, ReduceOp.Sum, CheckedRoot(root), "Broadcast");

    private static int CheckedRoot(int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
        return root;
    }

    /// <summary>An all-reduce (<paramref name="root"/> −1) or a broadcast from <paramref name="root"/> of
    /// <paramref name="values"/> in place, after the length check, in pieces of at most 2³⁰ elements (MPI counts are
    /// ints), counted in <see cref="Traffic"/>.</summary>
    private static unsafe void Exchange<T>(Span<T> values, Func<OpenMpi, IntPtr> type, ReduceOp op, int root, string call) where T : unmanaged
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (Mpi() is not { } mpi || !CheckedLength(mpi, values.Length, call)) return;
        IntPtr dtype = type(mpi), reduce = root < 0 ? Op(mpi, op) : IntPtr.Zero;
        const int Piece = 1 << 30;
        fixed (T* p = values)
            for (long offset = 0; offset < values.Length; offset += Piece)
            {
                int count = (int)Math.Min(Piece, values.Length - offset);
                if (root < 0) mpi.AllReduceInPlace(p + offset, count, dtype, reduce);
                else mpi.Broadcast(p + offset, count, dtype, root);
            }
        Count((long)values.Length * sizeof(T), start);
    }

    /// <summary>Copies rank <paramref name="root"/>'s tensor values (float32 or int64) to every rank.</summary>
    public static void Broadcast(Tensor tensor, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DType == DType.Int64) Broadcast(tensor.Int64Data, root);
        else Broadcast(tensor.Data, root);
    }

    /// <summary>Every rank's <paramref name="values"/>, rank after rank, into <paramref name="gathered"/> (WorldSize
    /// times as long) on every rank.</summary>
    /// <exception cref="ArgumentException"><paramref name="gathered"/> is not WorldSize times as long.</exception>
    public static unsafe void AllGather(ReadOnlySpan<float> values, Span<float> gathered)
    {
        if ((long)values.Length * WorldSize != gathered.Length)
            throw new ArgumentException($"Distributed.AllGather: {gathered.Length} places for {WorldSize} ranks of {values.Length} values.", nameof(gathered));
        if (Mpi() is not { } mpi || !CheckedLength(mpi, values.Length, "AllGather"))
        {
            values.CopyTo(gathered);
            return;
        }
        if (values.Length == 0) return;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        fixed (float* send = values, receive = gathered) mpi.AllGather(send, values.Length, mpi.Float, receive);
        Count((long)values.Length * sizeof(float), start);
    }

    /// <summary>Every rank's tensor stacked along a new first dimension: (WorldSize, …).</summary>
    public static Tensor AllGather(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var result = Tensor.Zeros([WorldSize, .. tensor.Shape]);
        AllGather(tensor.Data, result.Data);
        return result;
    }

    /// <summary>Waits until every rank has called it.</summary>
    public static void Barrier()
    {
        if (Mpi() is { } mpi) mpi.Barrier();
    }

    private static long s_calls, s_bytes, s_ticks;

    /// <summary>The collectives run since the last <see cref="ResetTraffic"/>: calls, payload bytes (each rank's own
    /// values, the length checks aside) and the seconds spent in them, for measuring a step's communication.</summary>
    public static (long Calls, long Bytes, double Seconds) Traffic =>
        (Interlocked.Read(ref s_calls), Interlocked.Read(ref s_bytes), Interlocked.Read(ref s_ticks) / (double)System.Diagnostics.Stopwatch.Frequency);

    /// <summary>Starts counting <see cref="Traffic"/> from zero.</summary>
    public static void ResetTraffic() => (s_calls, s_bytes, s_ticks) = (0, 0, 0);

    private static void Count(long bytes, long startTicks)
    {
        Interlocked.Increment(ref s_calls);
        Interlocked.Add(ref s_bytes, bytes);
        Interlocked.Add(ref s_ticks, System.Diagnostics.Stopwatch.GetTimestamp() - startTicks);
    }

    private static IntPtr Op(OpenMpi mpi, ReduceOp op) => op switch
    {
        ReduceOp.Sum or ReduceOp.Average => mpi.Sum,
        ReduceOp.Max => mpi.Max,
        ReduceOp.Min => mpi.Min,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Distributed: unknown reduce op."),
    };

    /// <summary>Whether there is anything to exchange, after checking that every rank passes <paramref name="length"/>
    /// (one all-reduce of (length, −length) with MPI_MAX: the maximum and the negated minimum agree only if all agree).</summary>
    private static unsafe bool CheckedLength(OpenMpi mpi, int length, string call)
    {
        long* bounds = stackalloc long[2] { length, -length };
        mpi.AllReduceInPlace(bounds, 2, mpi.Long, mpi.Max);
        if (bounds[0] != -bounds[1])
            throw new InvalidOperationException(
                $"Distributed.{call}: rank {Rank} passes {length} values, but the ranks pass between {-bounds[1]} and {bounds[0]}; every rank must pass the same length.");
        return length > 0;
    }
}
