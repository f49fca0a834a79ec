namespace MiniNet.Kernels;

internal static unsafe partial class Gemm
{
    /// <summary>How a product holds one of its operands.</summary>
    internal enum OperandKind
    {
        /// <summary>Values in memory (row stride <c>Ld</c>, maybe transposed), packed by the product itself.</summary>
        Values,
        /// <summary>Packed beforehand, with its values kept (a <see cref="PackedB"/> from <see cref="Pack"/>): every path
        /// can read it.</summary>
        Prepacked,
        /// <summary>Only packed panels (a <see cref="PackedA"/>, or a workspace filled in packed form): the paths that read
        /// an operand's values (row dot products, a split of k) are closed to it.</summary>
        PanelsOnly,
    }

    /// <summary>op(A) or op(B) of one product: its values (op = transpose when <see cref="Trans"/>), its packed panels
    /// (64-byte aligned), or both, as <see cref="Kind"/> says.</summary>
    private readonly struct Operand
    {
        private Operand(OperandKind kind, bool trans, float* values, int ld, float* panels)
        {
            (Kind, Trans, Ld) = (kind, trans, ld);
            Values = values;
            Panels = panels;
        }

        public static Operand OfValues(bool trans, float* values, int ld) => new(OperandKind.Values, trans, values, ld, null);

        public static Operand OfPrepacked(bool trans, float* values, int ld, float* panels) => new(OperandKind.Prepacked, trans, values, ld, panels);

        public static Operand OfPanels(float* panels) => new(OperandKind.PanelsOnly, false, null, 0, panels);

        public readonly OperandKind Kind;
        public readonly bool Trans;
        public readonly float* Values;
        public readonly int Ld;
        public readonly float* Panels;

        public bool HasValues => Kind != OperandKind.PanelsOnly;

        public bool IsPacked => Kind != OperandKind.Values;
    }

    /// <summary>C of one product: where it is written (row stride <see cref="Ld"/>), whether the product is added to it,
    /// and the epilogue applied as its tiles are completed.</summary>
    private readonly struct Output(float* values, int ld, bool accumulate, Epilogue epilogue)
    {
        public readonly float* Values = values;
        public readonly int Ld = ld;
        public readonly bool Accumulate = accumulate;
        public readonly Epilogue Epilogue = epilogue;
    }

    /// <summary>One product, C (+)= op(A)·op(B) of m × k and k × n, with the blocking its shape takes.</summary>
    private readonly struct Problem
    {
        public Problem(int m, int n, int k, Operand a, Operand b, Output c)
        {
            (M, N, K, A, B, C) = (m, n, k, a, b, c);
            bool deep = IsDeep(m, k);
            KStep = Gemm.KStep(k, deep);
            RowBlock = deep ? DeepMC : MC;
        }

        public readonly int M, N, K;
        public readonly Operand A, B;
        public readonly Output C;

        /// <summary>The k-block depth (<see cref="Gemm.KStep(int, bool)"/>) and the rows of A packed at a time.</summary>
        public readonly int KStep, RowBlock;

        /// <summary>The same product over the k-slice [k0, k1) into <paramref name="c"/>: op(A)[:, k0..k1] and
        /// op(B)[k0..k1, :] are offsets into the same values (both operands must have them; see <see cref="SplitK"/>).</summary>
        public Problem SliceOfK(int k0, int k1, Output c)
        {
            float* a = A.Values + (A.Trans ? (long)k0 * A.Ld : k0);
            float* b = B.Values + (B.Trans ? k0 : (long)k0 * B.Ld);
            return new Problem(M, N, k1 - k0, Operand.OfValues(A.Trans, a, A.Ld), Operand.OfValues(B.Trans, b, B.Ld), c);
        }

        /// <summary>Rows ic.. of the packed A's k-block that starts at row <paramref name="pc"/> of op(B) (blocks end to end,
        /// each holding all of op(A)'s row panels, m rounded up to whole panels; ic a multiple of MR).</summary>
        public float* PackedABlock(int pc, int ic, int kc) => A.Panels + (long)pc * PaddedRows(M) + (long)ic * kc;

        /// <summary>The packed B's k-block that starts at row <paramref name="pc"/> of op(B) (a multiple of
        /// <see cref="KStep"/>): the blocks lie end to end, each holding all panels.</summary>
        public float* PackedBBlock(int pc) => B.Panels + (long)pc * PanelCount(N) * NR;
    }
}
