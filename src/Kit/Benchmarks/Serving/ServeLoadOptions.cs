namespace Kit.Benchmarks.Serving;

/// <summary>What <see cref="ServeLoadGenerator"/> sends: <see cref="Requests"/> streamed completions from <see cref="Clients"/> clients at once.</summary>
public sealed record ServeLoadOptions
{
    /// <summary>The server's base address, such as <c>http://127.0.0.1:8000</c> (a trailing <c>/v1</c> is accepted).</summary>
    public required Uri Endpoint { get; init; }
    /// <summary>Clients sending at once; each sends its next request as soon as its last one ends.</summary>
    public int Clients { get; init; } = 1;
    /// <summary>Requests in all, shared by the clients.</summary>
    public int Requests { get; init; } = 8;
    /// <summary>About how many tokens each prompt has: this many random common words, most of them one token in a BPE vocabulary.</summary>
    public int PromptTokens { get; init; } = 128;
    /// <summary>The <c>max_tokens</c> of each request.</summary>
    public int MaxTokens { get; init; } = 64;
    /// <summary>The model to ask for; null takes the first one <c>GET /v1/models</c> lists.</summary>
    public string? Model { get; init; }
    /// <summary>Sent as <c>Authorization: Bearer</c> when set.</summary>
    public string? ApiKey { get; init; }
    /// <summary>Seed of the prompts' words (each request gets its own prompt, so no server can answer from a prefix cache alone).</summary>
    public int Seed { get; init; }
    /// <summary>
    /// Whether each client first sends one untimed request (a short prompt, <c>max_tokens</c> 1), so that its connection
    /// is open and both sides' code is warm before the clock starts, as vLLM's serving benchmark does with its test request.
    /// </summary>
    public bool WarmUp { get; init; } = true;
    /// <summary>How long one request may take before it counts as an error.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public ServeLoadOptions Validated()
    {
        if (!Endpoint.IsAbsoluteUri || Endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException($"endpoint must be an absolute http:// or https:// address, got '{Endpoint}'");
        if (Clients < 1) throw new ArgumentException($"clients must be at least 1, got {Clients}");
        if (Requests < Clients) throw new ArgumentException($"requests ({Requests}) must be at least the number of clients ({Clients}), or some clients send nothing");
        if (PromptTokens < 1) throw new ArgumentException($"prompt-tokens must be at least 1, got {PromptTokens}");
        if (MaxTokens < 1) throw new ArgumentException($"max-tokens must be at least 1, got {MaxTokens}");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentException($"the request timeout must be positive, got {RequestTimeout}");
        return this;
    }
}
