using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Kit.Models.Hub;

/// <summary>
/// Sends hub requests and follows redirects itself, so that it can read the hub's headers on a redirect and
/// send the token only to the hub's own origin, never to a CDN it redirects to.
/// </summary>
internal sealed class HubTransport(HttpClient http, HubOptions options)
{
    const int MaxRedirects = 10;
    readonly Uri _endpoint = new(options.Endpoint.TrimEnd('/') + "/");

    /// <summary>The URL of a hub path such as <c>api/models/org/name/revision/main</c>.</summary>
    public Uri Url(string path) => new(_endpoint, path);

    /// <summary>
    /// Sends a request, following redirects; a failed final status throws a <see cref="HubException"/> described by
    /// <paramref name="what"/>. A HEAD stops at a redirect to another origin, as <c>huggingface_hub</c> does: the hub's
    /// headers are on that redirect, and asking the CDN would cost a request for nothing.
    /// </summary>
    public async Task<HubResponse> SendAsync(HttpMethod method, Uri url, long rangeStart, HubTarget what, CancellationToken ct)
    {
        string? commit = null, etag = null, linkedEtag = null;
        long? linkedSize = null;
        for (int hop = 0; ; hop++)
        {
            var request = new HttpRequestMessage(method, url);
            if (options.Token is { Length: > 0 } token && SameOrigin(url, _endpoint))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (rangeStart > 0) request.Headers.Range = new RangeHeaderValue(rangeStart, null);
            request.Headers.UserAgent.ParseAdd("kit/1.0");
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);

            commit ??= Header(response, "X-Repo-Commit");
            linkedEtag ??= Header(response, "X-Linked-Etag");
            etag ??= Header(response, "ETag");
            if (linkedSize is null && long.TryParse(Header(response, "X-Linked-Size"), NumberStyles.None, CultureInfo.InvariantCulture, out long size))
                linkedSize = size;

            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
            {
                var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                if (method == HttpMethod.Head && !SameOrigin(next, url))
                    return new HubResponse(response, commit, NormalizeEtag(linkedEtag ?? etag), linkedSize);
                response.Dispose();
                if (hop == MaxRedirects) throw new HubException($"{what.Describe()}: more than {MaxRedirects} redirects from {url}.");
                url = next;
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                var error = HubErrors.FromResponse(response, url, what);
                response.Dispose();
                throw error;
            }
            return new HubResponse(response, commit, NormalizeEtag(linkedEtag ?? etag), linkedSize);
        }
    }

    // huggingface_hub's _normalize_etag: a weak validator prefix and the quotes are not part of the hash.
    static string? NormalizeEtag(string? etag) =>
        etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    /// <summary>A response header's first raw value, or null.</summary>
    internal static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    static bool IsRedirect(HttpStatusCode status) => (int)status is 301 or 302 or 303 or 307 or 308;

    static bool SameOrigin(Uri a, Uri b) =>
        Uri.Compare(a, b, UriComponents.SchemeAndServer | UriComponents.Port, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
