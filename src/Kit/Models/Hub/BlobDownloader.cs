using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Kit.Models.Hub;

/// <summary>
/// Downloads one blob into <c>blobs/{etag}.incomplete</c>, resuming a partial file with a <c>Range</c> request,
/// verifies its size and (for LFS files, whose etag is the content's sha256) its hash, and only then renames it
/// to <c>blobs/{etag}</c>.
/// </summary>
internal static partial class BlobDownloader
{
    const int BufferSize = 1 << 16;

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();

    /// <summary>Downloads <paramref name="url"/> to <paramref name="blob"/>, whose name is <paramref name="etag"/>.</summary>
    public static async Task DownloadAsync(HubTransport transport, Uri url, string blob, string etag, long? size,
        HubTarget what, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        string partial = blob + ".incomplete";
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        long start = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        // A partial as long as the file (or longer) cannot be resumed; fetch it whole.
        if (size is long expected && start >= expected) start = 0;

        using var response = await transport.SendAsync(HttpMethod.Get, url, start, what, ct).ConfigureAwait(false);
        if (start > 0 && (response.Message.StatusCode != HttpStatusCode.PartialContent
                          || response.Message.Content.Headers.ContentRange?.From != start))
            start = 0; // the server ignored the range and sends the whole file
        long? total = size ?? (response.Message.Content.Headers.ContentLength is long length ? start + length : null);

        bool checkHash = Sha256Hex().IsMatch(etag);
        using var sha = checkHash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        long done;
        await using (var output = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, BufferSize, useAsync: true))
        {
            output.SetLength(start);
            if (sha is not null && start > 0) await HashPrefixAsync(output, sha, ct).ConfigureAwait(false);
            output.Position = start;
            done = start;
            progress?.Report(new DownloadProgress(what.File!, done, total));

            await using var body = await response.Message.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            var buffer = new byte[BufferSize];
            int read;
            while ((read = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                sha?.AppendData(buffer, 0, read);
                done += read;
                progress?.Report(new DownloadProgress(what.File!, done, total));
            }
        }

        if (total is long want && done != want)
        {
            File.Delete(partial);
            throw new HubException($"Size mismatch for {what.Describe()}: the hub announced {want} bytes, {done} arrived. The partial download was deleted.");
        }
        if (sha is not null && Convert.ToHexStringLower(sha.GetHashAndReset()) is var actual && actual != etag)
        {
            File.Delete(partial);
            throw new HubException($"Checksum mismatch for {what.Describe()}: expected sha256 {etag}, got {actual}. The partial download was deleted.");
        }
        File.Move(partial, blob, overwrite: true);
    }

    static async Task HashPrefixAsync(FileStream file, IncrementalHash sha, CancellationToken ct)
    {
        file.Position = 0;
        var buffer = new byte[BufferSize];
        int read;
        while ((read = await file.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            sha.AppendData(buffer, 0, read);
    }
}
