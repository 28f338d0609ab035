namespace Kit.Notebook;

/// <summary>
/// HTML for a notebook cell to show as is. kit-setup.dib registers the kernel's text/html formatter for it; Kit
/// itself does not depend on .NET Interactive.
/// </summary>
/// <param name="Html">The fragment.</param>
public sealed record HtmlOutput(string Html)
{
    /// <inheritdoc/>
    public override string ToString() => Html;
}
