namespace Kit.Benchmarks;

/// <summary>Speed and memory of one model measured by <see cref="InferenceBenchmark"/>.</summary>
/// <param name="Model">The model argument as given.</param>
/// <param name="Format">"safetensors", "compressed-tensors" or "gguf" (Kit dequantizes GGUF blocks at load).</param>
/// <param name="DType">Type of the dense weights.</param>
/// <param name="Device">Where it ran.</param>
/// <param name="Threads">libtorch's intra-op threads.</param>
/// <param name="PackedLinears">Linears kept as packed integer codes (<see cref="Kit.Inference.QuantizedLinear"/>).</param>
/// <param name="Batch">Sequences per run.</param>
/// <param name="PromptTokens">Prompt length per sequence.</param>
/// <param name="NewTokens">Generated tokens per sequence and run.</param>
/// <param name="Repeats">Timed runs.</param>
/// <param name="LoadSeconds">Time to load the model.</param>
/// <param name="Timings">Time to first token and decode speeds over the timed runs.</param>
/// <param name="WeightBytes">Bytes the weights occupy in memory (<see cref="Kit.Models.CausalLM.WeightBytes"/>).</param>
/// <param name="StreamedBytesPerToken">
/// Weight bytes one decode step must read: all of them except an untied input embedding table, of which a step
/// reads one row.
/// </param>
/// <param name="DiskBytes">The safetensors files of the model folder, or the .gguf file.</param>
/// <param name="PeakResidentBytes">VmHWM from loading to the end of the last run (pages of mapped files count).</param>
/// <param name="PeakAnonymousBytes">Largest RssAnon sampled after loading and after each run.</param>
/// <param name="BaselineAnonymousBytes">RssAnon just before loading: the runtime, libtorch and whatever earlier work left.</param>
/// <param name="BandwidthGBps">Memory bandwidth used for the floor (measured or given).</param>
/// <param name="FloorTokensPerSecond">The most tokens/s batch-1 decode can reach: bandwidth ÷ streamed bytes.</param>
/// <param name="DecodeFractionOfFloor">Median per-sequence decode speed ÷ <paramref name="FloorTokensPerSecond"/>.</param>
/// <param name="LoadAverage">The machine's one-minute load average at the end, since other work skews the figures.</param>
/// <param name="PeakGpuBytes">On CUDA, the most GPU memory the process held (nvidia-smi, sampled every 100 ms from loading to the end); null elsewhere.</param>
public sealed record InferenceBenchmarkResult(string Model, string Format, string DType, string Device, int Threads, int PackedLinears,
    int Batch, int PromptTokens, int NewTokens, int Repeats, double LoadSeconds, DecodeTimings Timings,
    long WeightBytes, long StreamedBytesPerToken, long DiskBytes, long PeakResidentBytes, long PeakAnonymousBytes, long BaselineAnonymousBytes,
    double BandwidthGBps, double FloorTokensPerSecond, double DecodeFractionOfFloor, double LoadAverage, long? PeakGpuBytes = null);
