using System.Runtime.ExceptionServices;

namespace MiniNet.Kernels;

/// <summary>The one place that decides how many threads kernels use, and runs their parallel regions.</summary>
/// <remarks>
/// Work is split statically (a fixed part per index), so results never depend on thread scheduling.
/// Parallel regions run on a small pool of dedicated worker threads that spin briefly before sleeping: kernels open
/// many short regions (tens of microseconds), where waking thread-pool threads for <see cref="Parallel.For(int, int, Action{int})"/>
/// costs as much as the work. The caller takes part; indices are claimed one at a time. A region opened while
/// another is running (another thread's, or nested inside a worker) falls back to <c>Parallel.For</c>.
/// </remarks>
internal static class Parallelism
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>Threads a kernel may use (at least 1). Defaults to the processor count.</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set => s_maxThreads = Math.Max(1, value);
    }

    /// <summary>Elementwise work (elements) below which one thread is faster than waking another: below it a parallel
    /// region costs more in wake-up latency than it saves.</summary>
    public const long ElementwiseThreshold = 1 << 18;

    /// <summary>Threads to use for <paramref name="elements"/> of elementwise work.</summary>
    public static int ThreadsFor(long elements) => elements < ElementwiseThreshold ? 1 : s_maxThreads;

    /// <summary>Elementwise work over [0, length): body(start, count) on one contiguous slice per thread (slices start
    /// at multiples of 64 elements, so no two threads share a cache line), or once over everything when it is small.</summary>
    public static void ForSlices(int length, Action<int, int> body)
    {
        int threads = (int)Math.Min(ThreadsFor(length), Math.Max(1, length / 64));
        if (threads <= 1)
        {
            body(0, length);
            return;
        }
        int blocks = (length + 63) / 64;
        For(threads, t =>
        {
            int start = Math.Min(length, (int)((long)blocks * t / threads) * 64);
            int end = Math.Min(length, (int)((long)blocks * (t + 1) / threads) * 64);
            if (end > start) body(start, end - start);
        });
    }

    /// <summary>Runs body(0) … body(count − 1), in parallel when count &gt; 1 and more than one thread is allowed.</summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 1 || s_maxThreads == 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        if (!WorkerPool.TryRun(count, Math.Min(count, s_maxThreads) - 1, body))
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = s_maxThreads }, body);
    }

    /// <summary>Dedicated helper threads (processor count − 1) that wait on a spinning event between regions.</summary>
    private static class WorkerPool
    {
        private static readonly object Gate = new();
        private static readonly Worker[] Workers = CreateWorkers();
        [ThreadStatic] private static bool t_isWorker;

        private static Action<int>? s_body;
        private static int s_count, s_next, s_pending;
        private static ExceptionDispatchInfo? s_error;

        public static bool TryRun(int count, int helpers, Action<int> body)
        {
            helpers = Math.Min(helpers, Workers.Length);
            if (helpers == 0 || t_isWorker || !Monitor.TryEnter(Gate)) return false;
            try
            {
                (s_body, s_count, s_next, s_pending, s_error) = (body, count, 0, helpers, null);
                for (int h = 0; h < helpers; h++) Workers[h].Start();
                Work();
                var wait = new SpinWait();
                while (Volatile.Read(ref s_pending) > 0) wait.SpinOnce(sleep1Threshold: -1);
                s_body = null;
                s_error?.Throw();
                return true;
            }
            finally
            {
                Monitor.Exit(Gate);
            }
        }

        /// <summary>Claims and runs indices until none are left.</summary>
        private static void Work()
        {
            Action<int> body = s_body!;
            int i;
            while ((i = Interlocked.Increment(ref s_next) - 1) < s_count)
            {
                try { body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref s_error, ExceptionDispatchInfo.Capture(e), null); }
            }
        }

        private static Worker[] CreateWorkers()
        {
            var workers = new Worker[Math.Max(0, Environment.ProcessorCount - 1)];
            for (int i = 0; i < workers.Length; i++) workers[i] = new Worker(i);
            return workers;
        }

        private sealed class Worker
        {
            private readonly ManualResetEventSlim _go = new(false, spinCount: 2000);

            public Worker(int index)
            {
                var thread = new Thread(Loop) { IsBackground = true, Name = $"MiniNet worker {index + 1}" };
                thread.Start();
            }

            public void Start() => _go.Set();

            private void Loop()
            {
                t_isWorker = true;
                while (true)
                {
                    _go.Wait();
                    _go.Reset();
                    Work();
                    Interlocked.Decrement(ref s_pending);
                }
            }
        }
    }
}
