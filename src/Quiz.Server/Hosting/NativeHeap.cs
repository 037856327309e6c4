using System.Runtime.InteropServices;

namespace Quiz.Server.Hosting;

/// <summary>
/// How much freed memory the C library's heap keeps instead of handing it back to the kernel.
/// glibc gives back the free top of a heap once it passes 128 KiB. SQLite builds a small
/// temporary b-tree for a statement with RETURNING, an INSERT … SELECT reading its own table or an
/// IN (SELECT …), and allocates its ~90 KiB of page buffers and frees them at every execution. So
/// on the store writer's thread each such statement gave pages back and faulted them in again,
/// and every give-back flushed the other core's address-translation cache (an interrupt, costly in
/// a virtual machine): in `dotnet run -c Release --project loadtests/Quiz.StoreBench -- rounds`
/// a finish cost ~2.5 × its statements' own work (BENCHMARKS.md, "The C heap's give-backs").
/// Kept up to <see cref="TrimThreshold"/> a heap, the same buffers are reused.
/// </summary>
public static class NativeHeap
{
    /// <summary>The free top a heap keeps: bounded, so a burst's peak still goes back to the kernel.</summary>
    public const int TrimThreshold = 16 << 20;

    const int M_TRIM_THRESHOLD = -1;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);

    /// <summary>
    /// Must run first in Main, before the heaps grow. True when glibc took the setting; false on
    /// another OS or C library (nothing changes there), and when the operator set glibc's
    /// trim_threshold in GLIBC_TUNABLES (their value wins).
    /// </summary>
    public static bool KeepFreedPages()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { } tunables && tunables.Contains("trim_threshold", StringComparison.Ordinal)) return false;
        try { return Mallopt(M_TRIM_THRESHOLD, TrimThreshold) == 1; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }
}
