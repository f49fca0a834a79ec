namespace MiniNet.Tests.Support;

/// <summary>Assertions on tensors and float arrays with absolute and relative tolerances.</summary>
internal static class TensorAssert
{
    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, reporting the first offending index.</summary>
    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, float atol = 1e-5f, float rtol = 1e-5f, string what = "values")
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < actual.Length; i++)
        {
            float a = actual[i], e = expected[i];
            bool ok = a == e || Math.Abs(a - e) <= atol + rtol * Math.Abs(e) || (float.IsNaN(a) && float.IsNaN(e));
            if (!ok) Assert.Fail($"{what}: element {i} is {a:G9}, expected {e:G9} (atol {atol}, rtol {rtol})");
        }
    }

    /// <summary>Asserts the tensor's shape and values.</summary>
    public static void Close(Tensor actual, float[] expected, int[]? shape = null, float atol = 1e-5f, float rtol = 1e-5f)
    {
        if (shape is not null) Assert.That(actual.Shape, Is.EqualTo(shape), "shape");
        Close(actual.Data, expected, atol, rtol);
    }

    /// <summary>Asserts two tensors have equal shapes and close values.</summary>
    public static void Close(Tensor actual, Tensor expected, float atol = 1e-5f, float rtol = 1e-5f)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), "shape");
        Close(actual.Data, expected.Data, atol, rtol);
    }

    /// <summary>Runs <see cref="GradCheck.Check"/> and fails with its message when it does not pass.</summary>
    public static void GradientsMatch(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        GradCheckResult result = GradCheck.Check(f, inputs);
        Assert.That(result.Elements, Is.GreaterThan(0), "GradCheck compared no elements");
        Assert.That(result.Passed, Is.True, result.Message);
    }
}
