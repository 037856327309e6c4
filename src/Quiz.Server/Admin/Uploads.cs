using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Quiz.Server.Admin;

/// <summary>
/// Streams the files of a multipart upload into a temporary folder, never holding a whole file in
/// memory and stopping at the byte limit. Parsers then read the files from disk (XLSX needs a
/// seekable stream). Dispose deletes them.
/// </summary>
public sealed class Uploads : IAsyncDisposable
{
    public sealed class TooLargeException(long limit) : Exception($"The upload is larger than {limit:N0} bytes.")
    {
        public long Limit { get; } = limit;
    }

    public sealed class MalformedException(string message) : Exception(message);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "quiz-upload-" + Guid.NewGuid().ToString("N"));

    public List<(string Path, string Name)> Files { get; } = [];

    /// <summary>The upload, or the problem to answer with (413 too large, 400 malformed).</summary>
    public static async Task<(Uploads? Uploads, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? Problem)> ReceiveAsync(
        HttpRequest request, long maxBytes, int maxFiles, CancellationToken ct)
    {
        try
        {
            return (await ReadAsync(request, maxBytes, maxFiles, ct), null);
        }
        catch (TooLargeException e)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Upload too large",
                detail: $"{e.Message} (Import:MaxFileBytes)"));
        }
        catch (MalformedException e)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed upload", detail: e.Message));
        }
    }

    public static async Task<Uploads> ReadAsync(HttpRequest request, long maxBytes, int maxFiles, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes) throw new TooLargeException(maxBytes);
        // Let the server itself stop reading past the limit (plus room for the multipart framing),
        // so it neither buffers nor drains a 200 MB body after answering 413.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = maxBytes + 64 * 1024;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) ||
            !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) ||
            HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
            throw new MalformedException("Send the files as multipart/form-data.");

        var uploads = new Uploads();
        Directory.CreateDirectory(uploads._folder);
        try
        {
            var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024 };
            long total = 0;
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) ||
                    !disposition.IsFileDisposition())
                    continue;
                if (uploads.Files.Count >= maxFiles) throw new MalformedException($"At most {maxFiles} files in one upload.");
                var name = Path.GetFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "");
                if (string.IsNullOrWhiteSpace(name)) name = $"upload-{uploads.Files.Count + 1}";
                var path = Path.Combine(uploads._folder, $"{uploads.Files.Count}{Path.GetExtension(name)}");
                await using (var file = File.Create(path))
                {
                    var buffer = new byte[81920];
                    int read;
                    while ((read = await section.Body.ReadAsync(buffer, ct)) > 0)
                    {
                        total += read;
                        if (total > maxBytes) throw new TooLargeException(maxBytes);
                        await file.WriteAsync(buffer.AsMemory(0, read), ct);
                    }
                }
                uploads.Files.Add((path, name));
            }
            return uploads;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await uploads.DisposeAsync();
            throw new TooLargeException(maxBytes);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            await uploads.DisposeAsync();
            throw new MalformedException($"The upload is not valid multipart data: {e.Message}");
        }
        catch
        {
            await uploads.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
