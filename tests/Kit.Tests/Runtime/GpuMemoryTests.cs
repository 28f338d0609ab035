using Kit.Runtime;

namespace Kit.Tests.Runtime;

public sealed class GpuMemoryTests
{
    [Fact]
    public void Nvidia_smi_lines_of_this_process_are_summed_over_gpus()
    {
        const string output = "4242, 1536\n999, 80000\n4242, 512\n  4242 , 10 \n";
        Assert.Equal((1536L + 512 + 10) * 1024 * 1024, GpuMemory.Parse(output, 4242));
        Assert.Equal(0, GpuMemory.Parse(output, 7));
        Assert.Equal(0, GpuMemory.Parse("4242, [N/A]\n", 4242));
    }

    [Fact]
    public void Sampler_keeps_the_largest_reading_and_skips_missing_ones()
    {
        var readings = new Queue<long?>([null, 5, 40, null, 12]);
        long? Next() { lock (readings) return readings.Count > 0 ? readings.Dequeue() : 3; }
        var sampler = new PeakSampler(Next, TimeSpan.FromMilliseconds(1));
        SpinWait.SpinUntil(() => { lock (readings) return readings.Count == 0; }, 5000);
        sampler.Dispose();
        Assert.Equal(40, sampler.Peak);
        using var none = new PeakSampler(() => null, TimeSpan.FromMilliseconds(1));
        Assert.Null(none.Peak);
    }

    [Fact]
    public void Without_nvidia_smi_there_is_no_reading_rather_than_an_error()
    {
        // On machines with a GPU this reads the real figure; a CPU-only process holds none.
        var bytes = GpuMemory.ProcessBytes();
        Assert.True(bytes is null or 0, $"{bytes}");
    }
}
