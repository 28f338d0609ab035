namespace Kit.Benchmarks;

/// <summary>One point of a speed sweep: one model at one batch size and prompt length.</summary>
/// <param name="Model">The model as given.</param>
/// <param name="Format">"safetensors", "compressed-tensors" or "gguf".</param>
/// <param name="Batch">Sequences decoded together (one prefill pass, since their prompts are equally long).</param>
/// <param name="PromptTokens">Prompt length per sequence.</param>
/// <param name="NewTokens">Generated tokens per sequence and run.</param>
/// <param name="Repeats">Timed runs.</param>
/// <param name="Timings">Time to first token, decode speed per sequence and for the batch, end to end (medians and ranges).</param>
/// <param name="PrefillTokensPerSecond">Prompt tokens of the whole batch ÷ time to first token.</param>
/// <param name="PeakResidentBytes">VmHWM over this point's runs (weights, KV caches and activations).</param>
/// <param name="PeakAnonymousBytes">Largest RssAnon sampled after each run.</param>
/// <param name="WeightBytes">Bytes the weights occupy in memory.</param>
/// <param name="Parameters">Parameters of the architecture (a tied embedding once).</param>
/// <param name="Prefill">The prefill on the roofline: 2 × decoder-Linear parameters × batch × prompt FLOPs plus the head on the last positions, over the weights and the KV written.</param>
/// <param name="Decode">One decode step on the roofline: 2 × Linear parameters × batch FLOPs over the weights plus the KV cache read (at the mean context).</param>
/// <param name="LoadAverage">The machine's one-minute load average after the point's runs.</param>
public sealed record SpeedPoint(string Model, string Format, int Batch, int PromptTokens, int NewTokens, int Repeats,
    DecodeTimings Timings, Spread PrefillTokensPerSecond, long PeakResidentBytes, long PeakAnonymousBytes, long WeightBytes, long Parameters,
    RooflinePoint Prefill, RooflinePoint Decode, double LoadAverage);

/// <summary>A whole sweep: the machine's ceilings and every point.</summary>
/// <param name="Machine">The roofline's ceilings.</param>
/// <param name="Points">Model by model, batch by batch, prompt length by prompt length.</param>
public sealed record SpeedSweepResult(MachineCeilings Machine, IReadOnlyList<SpeedPoint> Points);
