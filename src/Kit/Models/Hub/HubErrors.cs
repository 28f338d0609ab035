using System.Net;

namespace Kit.Models.Hub;

/// <summary>Turns the hub's error answers into messages that say what to do.</summary>
internal static class HubErrors
{
    /// <summary>The exception for a failed final response; the hub's <c>X-Error-Code</c> sharpens a 404.</summary>
    public static HubException FromResponse(HttpResponseMessage response, Uri url, HubTarget what)
    {
        var status = response.StatusCode;
        string? code = HubTransport.Header(response, "X-Error-Code");
        string hubSays = HubTransport.Header(response, "X-Error-Message") is { } m ? $" The hub says: {m}" : "";
        string message = status switch
        {
            // The hub answers 401 for a private repo and for one that does not exist, so as not to reveal which.
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                $"Access to {what.Describe()} was refused ({(int)status}): the repository is gated or private, or does not exist. "
                + "Accept its terms on the hub if it is gated, and set HF_TOKEN (or write the token to $HF_HOME/token) to a token that can read it.",
            HttpStatusCode.NotFound => code switch
            {
                "EntryNotFound" => $"File '{what.File}' was not found in {(what with { File = null }).Describe()}.",
                "RevisionNotFound" => $"Revision '{what.Revision}' was not found in repo '{what.RepoId}' (looking for {what.Describe()}).",
                _ => $"Not found (404): {what.Describe()}. Check the repository id, the revision and the file name.",
            },
            _ => $"The hub answered {(int)status} {response.ReasonPhrase} for {what.Describe()}.",
        };
        return new HubException($"{message} ({url}){hubSays}", status);
    }
}
