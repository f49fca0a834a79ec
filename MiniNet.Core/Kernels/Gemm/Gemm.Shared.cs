using System.Diagnostics;

namespace MiniNet.Kernels;

internal static unsafe partial class Gemm
{
    /// <summary>A product computed by several threads together (Goto's scheme shared by threads, as BLIS does): for each
    /// k-block, the threads pack the block of op(B) into one shared buffer (a few rows of B across all full panels at a time,
    /// or a panel at a time when B is transposed; see <see cref="PackUnit"/>), then take tasks (a block of
    /// rows × a chunk of columns, each packing its own rows of A) as they come, from the two ends of the list, so a
    /// thread slowed by the machine's other work simply takes fewer. B is packed once instead of once per thread (split
    /// by rows, every thread would pack all of a weight matrix). Two buffers alternate between
    /// k-blocks, so a thread can pack the next block while another finishes its last task of this one. Used for
    /// m ≥ 4·MC and <see cref="SharedThreshold"/> multiply-adds: for smaller products (the training batch's, m = 128,
    /// and small inference layers) the synchronisation costs more than packing B twice, so static splits run there.</summary>
    /// <remarks>Nothing waits on work that nobody has claimed: a thread waits only until packing units or tasks that another
    /// thread took are finished. One thread alone (if the others never start) does all of it, so the scheme cannot
    /// deadlock. Each element of C is summed by one task in k-block order, so the result does not depend on the thread
    /// count or on who took what.</remarks>
    private sealed class Shared
    {
        private readonly Problem _p;
        private readonly int _kStep, _kBlocks, _panels, _rowBlock, _rowBlocks, _colChunk, _colChunks, _tasks;
        private readonly bool _packByRows;
        private readonly int _packUnits, _rowGroups, _fullColumns;
        private readonly int[] _packNext, _packDone, _taskDone, _taskFinished;
        private readonly long[] _taskEnds;   // per k-block: the next task from the front (low half) and the end (high half)
        private readonly float[]? _packB0, _packB1;

        private Shared(in Problem p, int threads)
        {
            _p = p;
            _kStep = p.KStep;
            _kBlocks = (p.K + _kStep - 1) / _kStep;
            _panels = PanelCount(p.N);
            // Row blocks of at most p.RowBlock rows, equal in whole tiles; columns cut into chunks when there are too few row
            // blocks to give each thread about four tasks.
            int rowBlocks = (p.M + p.RowBlock - 1) / p.RowBlock;
            _rowBlock = ((p.M + rowBlocks - 1) / rowBlocks + MR - 1) / MR * MR;
            _rowBlocks = (p.M + _rowBlock - 1) / _rowBlock;
            int chunks = Math.Clamp((4 * threads + _rowBlocks - 1) / _rowBlocks, 1, _panels);
            _colChunk = (_panels + chunks - 1) / chunks * NR;
            _colChunks = (p.N + _colChunk - 1) / _colChunk;
            _tasks = _rowBlocks * _colChunks;
            // Packing a k-block is cut into units the threads take in turn: groups of rows of B copied across all full
            // panels when B is not transposed (read sequentially, as PackB does; panel by panel every step of p jumps a
            // row of B ahead), then the last, partial panel; or one panel per unit for a transposed B.
            _packByRows = !p.B.Trans && s_avx512;
            if (_packByRows)
            {
                _fullColumns = p.N / NR * NR;
                // Sized for the k step: a shorter last k-block may leave its last units empty.
                _rowGroups = _fullColumns == 0 ? 0 : (_kStep + RowsPerUnit - 1) / RowsPerUnit;
                _packUnits = _rowGroups + (_fullColumns < p.N ? 1 : 0);
            }
            else _packUnits = _panels;
            _packNext = new int[_kBlocks];
            _packDone = new int[_kBlocks];
            _taskEnds = new long[_kBlocks];
            for (int b = 0; b < _kBlocks; b++) _taskEnds[b] = (long)_tasks << 32;
            _taskDone = new int[_kBlocks];
            _taskFinished = new int[_kBlocks * _tasks];
            if (p.B.IsPacked) return;   // nothing to pack: _packB0 and _packB1 stay null
            int size = _kStep * _panels * NR + 16;
            _packB0 = BufferPool.Rent(size);
            _packB1 = _kBlocks > 1 ? BufferPool.Rent(size) : _packB0;
        }

        /// <summary>Computes the product on <paramref name="threads"/> threads; n must fit one block (n ≤ NC).</summary>
        public static void Run(in Problem p, int threads)
        {
            Debug.Assert(p.N <= NC);
            var shared = new Shared(p, threads);
            try
            {
                Parallelism.For(threads, shared.Participate);
            }
            finally
            {
                if (shared._packB0 is not null) BufferPool.Return(shared._packB0);
                if (shared._packB1 is not null && shared._packB1 != shared._packB0) BufferPool.Return(shared._packB1);
            }
        }

        /// <summary>Takes the next task of <paramref name="block"/>, from the front or from the back, or −1 when none is left.</summary>
        private int Claim(int block, bool fromBack)
        {
            while (true)
            {
                long ends = Volatile.Read(ref _taskEnds[block]);
                int front = (int)ends, back = (int)(ends >> 32);
                if (front >= back) return -1;
                long next = fromBack ? (uint)front | (long)(back - 1) << 32 : (uint)(front + 1) | (long)back << 32;
                if (Interlocked.CompareExchange(ref _taskEnds[block], next, ends) == ends) return fromBack ? back - 1 : front;
            }
        }

        /// <summary>One thread's share. Participant 1 takes tasks from the back and the others from the front, so with two
        /// threads each keeps to its own end of the rows, k-block after k-block and layer after layer (the rows it wrote
        /// stay in its cache), and they meet wherever the slower one got to.</summary>
        private void Participate(int index)
        {
            bool fromBack = index == 1;
            fixed (float* pa0 = PackABuffer(), b00 = _packB0, b10 = _packB1)
            {
                float* pa = Align64(pa0), b0 = b00 == null ? null : Align64(b00), b1 = b10 == null ? null : Align64(b10);
                int packedRows = -1, packedBlock = -1;   // the rows of A this thread's buffer holds, and for which k-block
                for (int block = 0; block < _kBlocks; block++)
                {
                    int pc = block * _kStep, kc = Math.Min(_kStep, _p.K - pc);
                    float* pb;
                    int i;
                    if (_p.B.IsPacked) pb = _p.PackedBBlock(pc);
                    else
                    {
                        pb = (block & 1) == 0 ? b0 : b1;
                        // The buffer was last read by the tasks of block − 2: they must be finished (almost always long since).
                        if (block >= 2) WaitFor(ref _taskDone[block - 2], _tasks);
                        while ((i = Interlocked.Increment(ref _packNext[block]) - 1) < _packUnits)
                        {
                            PackUnit(pc, kc, i, pb);
                            Interlocked.Increment(ref _packDone[block]);
                        }
                        WaitFor(ref _packDone[block], _packUnits);
                    }
                    bool accumulate = _p.C.Accumulate || pc > 0, last = pc + kc >= _p.K;
                    while ((i = Claim(block, fromBack)) >= 0)
                    {
                        int ic = i / _colChunks * _rowBlock, mc = Math.Min(_rowBlock, _p.M - ic);
                        int j0 = i % _colChunks * _colChunk, j1 = Math.Min(_p.N, j0 + _colChunk);
                        float* rowsOfA = pa;
                        if (_p.A.IsPacked) rowsOfA = _p.PackedABlock(pc, ic, kc);
                        else if (packedRows != ic || packedBlock != block)
                        {
                            PackA(_p, ic, mc, pc, kc, pa);
                            (packedRows, packedBlock) = (ic, block);
                        }
                        // The same tile of C in the previous k-block must be summed first (taken before any of this
                        // block's, so it is finished or under way).
                        if (block > 0) WaitFor(ref _taskFinished[(block - 1) * _tasks + i], 1);
                        MacroKernel(_p, kc, rowsOfA, ic, mc, pb, 0, j0, j1, accumulate, last);
                        Volatile.Write(ref _taskFinished[block * _tasks + i], 1);
                        Interlocked.Increment(ref _taskDone[block]);
                    }
                }
            }
        }

        /// <summary>Rows of B per packing unit when B is not transposed (and AVX-512 runs): 16 rows (64 KB of a 1024-wide
        /// B) per unit, copied across all panels so that B is read sequentially (panel by panel, each step of p would be
        /// a new 4 KB page).</summary>
        private const int RowsPerUnit = 4 * RowsPerPass;

        /// <summary>Packs unit <paramref name="unit"/> of the k-block at <paramref name="pc"/> (kc deep) into <paramref name="pb"/>.</summary>
        private void PackUnit(int pc, int kc, int unit, float* pb)
        {
            if (_packByRows && unit < _rowGroups)
            {
                int u0 = unit * RowsPerUnit;
                CopyRowRangeToPanels(_p, pc, u0, Math.Min(kc, u0 + RowsPerUnit), 0, _fullColumns, pb, kc);
            }
            else if (_packByRows)
                PackBPanel(_p, pc, kc, _fullColumns, _p.N - _fullColumns, pb + (long)_fullColumns * kc);   // the partial panel
            else
                PackBPanel(_p, pc, kc, unit * NR, Math.Min(NR, _p.N - unit * NR), pb + (long)unit * NR * kc);
        }

        private static void WaitFor(ref int counter, int target)
        {
            var wait = new SpinWait();
            while (Volatile.Read(ref counter) < target) wait.SpinOnce(sleep1Threshold: -1);
        }
    }
}
