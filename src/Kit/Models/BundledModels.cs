namespace Kit.Models;

/// <summary>The models that travel with Kit, selected by name wherever a model folder or hub id is accepted.</summary>
public static class BundledModels
{
    /// <summary>The names: <see cref="DefaultModel.Name"/> and <see cref="Stories260K.Name"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = [DefaultModel.Name, Stories260K.Name];

    /// <summary>The folder of the bundled model that <paramref name="model"/> names, or null when it names none.</summary>
    public static string? TryFolder(string model) =>
        model == DefaultModel.Name ? DefaultModel.Folder
        : string.Equals(model, Stories260K.Name, StringComparison.OrdinalIgnoreCase) ? Stories260K.Folder
        : null;
}
