namespace Kit.Models.Hub;

/// <summary>
/// The last response of a redirect chain (for a HEAD, possibly the redirect to a CDN), with the hub's own headers taken from whichever hop carried them:
/// for LFS files the hub puts them on its 302 to the CDN, whose final answer does not repeat them.
/// </summary>
internal sealed class HubResponse(HttpResponseMessage message, string? commit, string? etag, long? linkedSize) : IDisposable
{
    /// <summary>The final response; its body is unread.</summary>
    public HttpResponseMessage Message { get; } = message;

    /// <summary><c>X-Repo-Commit</c>: the commit the revision resolved to.</summary>
    public string? Commit { get; } = commit;

    /// <summary><c>X-Linked-Etag</c> (the sha256 of an LFS file) or else the hub's <c>ETag</c>, quotes and <c>W/</c> stripped.</summary>
    public string? Etag { get; } = etag;

    /// <summary><c>X-Linked-Size</c> (an LFS file's size), else the <c>Content-Length</c> of a final 2xx answer.</summary>
    public long? Size { get; } = linkedSize ?? (message.IsSuccessStatusCode ? message.Content.Headers.ContentLength : null);

    /// <inheritdoc/>
    public void Dispose() => Message.Dispose();
}
