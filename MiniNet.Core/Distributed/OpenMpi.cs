using System.Runtime.InteropServices;

namespace MiniNet;

// A thin binding of Open MPI's C API (libmpi.so.40, Open MPI 4.x as Debian ships it). Open MPI's predefined handles
// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are the addresses of exported symbols (ompi_mpi_comm_world, ompi_mpi_float,
// ompi_mpi_op_sum), resolved with NativeLibrary.GetExport; the functions are called through unmanaged function
// pointers. The library is opened with RTLD_GLOBAL first: Open MPI loads its components as plugins that resolve
// libmpi's symbols globally, which a plain NativeLibrary.Load (RTLD_LOCAL) would hide from them.
internal sealed unsafe class OpenMpi
{
    private const int RtldNow = 2, RtldGlobal = 0x100;
    private const int Success = 0;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern IntPtr DlOpen(string file, int mode);

    private readonly delegate* unmanaged<IntPtr, IntPtr, int> _init;
    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<IntPtr, int*, int> _commRank, _commSize;
    private readonly delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int> _allreduce;
    private readonly delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> _bcast;
    private readonly delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int> _allgather;
    private readonly delegate* unmanaged<IntPtr, int> _barrier;
    private readonly delegate* unmanaged<IntPtr, int, int> _abort;

    public IntPtr World { get; }
    public IntPtr Float { get; }
    public IntPtr Double { get; }
    public IntPtr Int { get; }
    public IntPtr Long { get; }
    public IntPtr Sum { get; }
    public IntPtr Max { get; }
    public IntPtr Min { get; }

    /// <summary>Open MPI's MPI_IN_PLACE: the receive buffer is also the send buffer.</summary>
    public static readonly IntPtr InPlace = 1;

    private OpenMpi(IntPtr library)
    {
        IntPtr F(string name) => NativeLibrary.GetExport(library, name);
        _init = (delegate* unmanaged<IntPtr, IntPtr, int>)F("MPI_Init");
        _initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)F("MPI_Finalized");
        _finalize = (delegate* unmanaged<int>)F("MPI_Finalize");
        _commRank = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<IntPtr, int*, int>)F("MPI_Comm_size");
        _allreduce = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int>)F("MPI_Allreduce");
        _bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)F("MPI_Bcast");
        _allgather = (delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int>)F("MPI_Allgather");
        _barrier = (delegate* unmanaged<IntPtr, int>)F("MPI_Barrier");
        _abort = (delegate* unmanaged<IntPtr, int, int>)F("MPI_Abort");
        World = F("ompi_mpi_comm_world");
        Float = F("ompi_mpi_float");
        Double = F("ompi_mpi_double");
        Int = F("ompi_mpi_int");
        Long = F("ompi_mpi_long");
        Sum = F("ompi_mpi_op_sum");
        Max = F("ompi_mpi_op_max");
        Min = F("ompi_mpi_op_min");
    }

    /// <summary>Loads Open MPI, or returns null with the reason when it is not installed or is not Open MPI.</summary>
    public static OpenMpi? TryLoad(out string? reason)
    {
        foreach (string name in (string[])["libmpi.so.40", "libmpi.so"])
        {
            if (DlOpen(name, RtldNow | RtldGlobal) == IntPtr.Zero || !NativeLibrary.TryLoad(name, out IntPtr library)) continue;
            if (!NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out _))
            {
                reason = $"{name} is not Open MPI (no ompi_mpi_comm_world)";
                return null;
            }
            reason = null;
            return new OpenMpi(library);
        }
        reason = "Open MPI's libmpi.so.40 was not found (apt-get install openmpi-bin libopenmpi-dev)";
        return null;
    }

    private static void Check(int code, string call)
    {
        if (code != Success) throw new InvalidOperationException($"{call} failed with MPI error code {code}.");
    }

    public void Init()
    {
        int done;
        Check(_initialized(&done), "MPI_Initialized");
        if (done == 0) Check(_init(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
    }

    public void FinalizeOnce()
    {
        int initialized, finalized;
        if (_initialized(&initialized) != Success || initialized == 0) return;
        if (_finalized(&finalized) != Success || finalized != 0) return;
        _finalize();
    }

    public int Rank()
    {
        int rank;
        Check(_commRank(World, &rank), "MPI_Comm_rank");
        return rank;
    }

    public int Size()
    {
        int size;
        Check(_commSize(World, &size), "MPI_Comm_size");
        return size;
    }

    public void AllReduceInPlace(void* buffer, int count, IntPtr type, IntPtr op) =>
        Check(_allreduce((void*)InPlace, buffer, count, type, op, World), "MPI_Allreduce");

    public void Broadcast(void* buffer, int count, IntPtr type, int root) => Check(_bcast(buffer, count, type, root, World), "MPI_Bcast");

    public void AllGather(void* send, int count, IntPtr type, void* receive) =>
        Check(_allgather(send, count, type, receive, count, type, World), "MPI_Allgather");

    public void Barrier() => Check(_barrier(World), "MPI_Barrier");

    public void Abort(int code) => _abort(World, code);
}
