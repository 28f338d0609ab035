using Kit.Models.Tokenizers;

namespace Kit.Serving;

/// <summary>How <see cref="KitServer"/> listens and serves.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to bind; loopback unless told otherwise (0.0.0.0 exposes the server to the network).</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free one (read it from <see cref="KitServer.Url"/>). vLLM's default is 8000.</summary>
    public int Port { get; init; } = 8000;
    /// <summary>When set, every <c>/v1</c> request must carry <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }
    /// <summary>The most sequences decoded together (vLLM's --max-num-seqs).</summary>
    public int MaxBatch { get; init; } = 8;
    /// <summary>The model id clients name; null uses what the model was loaded from.</summary>
    public string? ModelName { get; init; }
    /// <summary>The chat format for <c>/v1/chat/completions</c> when the model's folder has no chat template (or to override it).</summary>
    public ChatTemplateFamily? ChatTemplate { get; init; }

    /// <summary>The address to bind.</summary>
    internal System.Net.IPAddress Address => Host == "localhost" ? System.Net.IPAddress.Loopback : System.Net.IPAddress.Parse(Host);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        if (Host != "localhost" && !System.Net.IPAddress.TryParse(Host, out _))
            throw new ArgumentException($"host must be an IP address or localhost, got '{Host}'");
        if (Port is < 0 or > 65535) throw new ArgumentException($"port must be in 0..65535, got {Port}");
        if (MaxBatch < 1) throw new ArgumentException($"max-batch must be at least 1, got {MaxBatch}");
        if (ApiKey is { Length: 0 }) throw new ArgumentException("api-key must not be empty");
    }
}
