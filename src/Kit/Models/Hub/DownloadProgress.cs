namespace Kit.Models.Hub;

/// <summary>How far the download of one repository file has come.</summary>
/// <param name="File">The file's path inside the repository, e.g. <c>model.safetensors</c>.</param>
/// <param name="BytesDone">Bytes on disk so far, counting a resumed partial download.</param>
/// <param name="BytesTotal">The file's size, or null when the hub did not say.</param>
public sealed record DownloadProgress(string File, long BytesDone, long? BytesTotal);
