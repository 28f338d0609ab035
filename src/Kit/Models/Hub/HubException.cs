using System.Net;

namespace Kit.Models.Hub;

/// <summary>A hub request or a cached download failed; the message names the repository, revision and file.</summary>
public sealed class HubException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, naming the repository and file.</param>
    /// <param name="statusCode">The HTTP status the hub answered, when the failure was an HTTP error.</param>
    /// <param name="inner">The underlying failure, if any.</param>
    public HubException(string message, HttpStatusCode? statusCode = null, Exception? inner = null)
        : base(message, inner) => StatusCode = statusCode;

    /// <summary>The HTTP status the hub answered, or null when the failure was not an HTTP error.</summary>
    public HttpStatusCode? StatusCode { get; }
}
