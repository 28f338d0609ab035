namespace Kit.Serving;

/// <summary>
/// A request the server refuses, with what OpenAI's API puts in its error body:
/// <c>{"error": {"message", "type", "param", "code"}}</c> and the HTTP status.
/// </summary>
public sealed class OpenAiError : Exception
{
    /// <summary>An error with the given status, message, OpenAI error type, offending parameter and code.</summary>
    public OpenAiError(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
        : base(message) => (Status, Type, Param, Code) = (status, type, param, code);

    /// <summary>HTTP status: 400, 401, 404, 500.</summary>
    public int Status { get; }
    /// <summary>OpenAI's error type, e.g. <c>invalid_request_error</c>.</summary>
    public string Type { get; }
    /// <summary>The request field at fault, or null.</summary>
    public string? Param { get; }
    /// <summary>A machine-readable code such as <c>model_not_found</c>, or null.</summary>
    public string? Code { get; }

    /// <summary>A 400 naming the bad field.</summary>
    public static OpenAiError BadField(string param, string message) => new(400, message, param: param);

    /// <summary>The body OpenAI's clients parse.</summary>
    public object Body => new { error = new { message = Message, type = Type, param = Param, code = Code } };
}
