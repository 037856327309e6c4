using Quiz.Server.Hosting;

namespace Quiz.Server.Tests.Hosting;

/// <summary>The C heap's setting the server makes at start (NativeHeap): taken by glibc, and an operator's own value left alone.</summary>
public class NativeHeapTests
{
    [Fact]
    public void GlibcTakesTheTrimThresholdOnLinux() =>
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.KeepFreedPages()); // the machines this runs on use glibc

    [Fact]
    public void AnOperatorsTrimThresholdInGlibcTunablesWins()
    {
        var before = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        try
        {
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=262144");
            Assert.False(NativeHeap.KeepFreedPages());
        }
        finally { Environment.SetEnvironmentVariable("GLIBC_TUNABLES", before); }
    }
}
