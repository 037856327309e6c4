using System.IO.Compression;
using System.Text;

namespace Quiz.Server.Circulars;

/// <summary>
/// The circular's trend chart as a PNG, drawn here: System.Drawing does not run on Linux and the
/// served image packages are either withdrawn or charge for use, while a bar-and-line chart needs
/// only rectangles, lines and digits. Bars are the rounds of each day (grey for the previous
/// period, blue for this one), the red line the participants of each day; words stay in the
/// document's caption, where Word renders Chinese, and the picture carries only digits.
/// </summary>
public static class TrendChart
{
    public const int Width = 1200, Height = 560;
    private const int Left = 110, Right = 30, Top = 40, Bottom = 70;

    private static readonly Rgb White = new(255, 255, 255), Axis = new(60, 60, 60), Grid = new(225, 225, 225),
        PeriodBar = new(91, 143, 214), PreviousBar = new(190, 190, 190), Line = new(200, 40, 40);

    public static byte[] Png(IReadOnlyList<CircularService.TrendDay> days)
    {
        using var canvas = new Canvas(Width, Height, White);
        var top = Math.Max(1, days.Count == 0 ? 1 : days.Max(d => Math.Max(d.Rounds, d.Participants)));
        var scale = NiceCeiling(top + top / 10 + 1); // headroom above the tallest bar
        int plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        int Y(long value) => Top + plotHeight - (int)Math.Round((double)value / scale * plotHeight);

        for (var i = 0; i <= 4; i++)
        {
            var value = scale * i / 4;
            var y = Y(value);
            canvas.Line(Left, y, Width - Right, y, i == 0 ? Axis : Grid, 2);
            canvas.Text(value.ToString(System.Globalization.CultureInfo.InvariantCulture), Left - 12, y - 10, 4, Axis, alignRight: true);
        }
        canvas.Line(Left, Top, Left, Top + plotHeight, Axis, 2);

        if (days.Count == 0) return canvas.Encode();
        var slot = (double)plotWidth / days.Count;
        var barWidth = Math.Max(2, (int)(slot * 0.6));
        var points = new List<(int X, int Y)>();
        for (var i = 0; i < days.Count; i++)
        {
            var centre = Left + (int)(slot * (i + 0.5));
            canvas.Fill(centre - barWidth / 2, Y(days[i].Rounds), barWidth, Top + plotHeight - Y(days[i].Rounds), days[i].InPeriod ? PeriodBar : PreviousBar);
            points.Add((centre, Y(days[i].Participants)));
            // Label every day when they fit, else every few: digits are 5 px wide at scale 3.
            var every = (int)Math.Ceiling(60 / slot);
            if (i % Math.Max(1, every) == 0)
                canvas.Text($"{days[i].Day.Month}-{days[i].Day.Day}", centre, Top + plotHeight + 16, 3, Axis, centred: true);
        }
        for (var i = 1; i < points.Count; i++) canvas.Line(points[i - 1].X, points[i - 1].Y, points[i].X, points[i].Y, Line, 4);
        foreach (var (x, y) in points) canvas.Fill(x - 5, y - 5, 11, 11, Line);
        return canvas.Encode();
    }

    /// <summary>1, 2 or 5 times a power of ten, and at least 4 so the four grid steps are whole numbers.</summary>
    private static long NiceCeiling(long value)
    {
        long step = 1;
        while (true)
        {
            foreach (var m in new[] { 1, 2, 5 })
                if (step * m * 4 >= value && step * m * 4 >= 4) return step * m * 4;
            step *= 10;
        }
    }

    private readonly record struct Rgb(byte R, byte G, byte B);

    /// <summary>An RGB bitmap with the few drawing operations the chart needs, and its PNG encoding.</summary>
    private sealed class Canvas(int width, int height, Rgb background) : IDisposable
    {
        private readonly byte[] _pixels = Solid(width * height, background);

        /// <summary>
        /// The last canvas's pixels, for the next chart. A chart's 2 MB is a large object, and large
        /// objects count towards a full collection: a node issuing the evening's circulars (a chart
        /// each) set off a background gen-2 collection every few charts (BENCHMARKS.md).
        /// </summary>
        private static byte[]? _spare;

        private static byte[] Solid(int count, Rgb colour)
        {
            var pixels = Interlocked.Exchange(ref _spare, null);
            if (pixels is null || pixels.Length != count * 3) pixels = new byte[count * 3];
            for (var i = 0; i < pixels.Length; i += 3) (pixels[i], pixels[i + 1], pixels[i + 2]) = (colour.R, colour.G, colour.B);
            return pixels;
        }

        public void Dispose() => _spare = _pixels;

        public void Fill(int x, int y, int w, int h, Rgb colour)
        {
            for (var j = Math.Max(0, y); j < Math.Min(height, y + h); j++)
                for (var i = Math.Max(0, x); i < Math.Min(width, x + w); i++)
                {
                    var at = (j * width + i) * 3;
                    (_pixels[at], _pixels[at + 1], _pixels[at + 2]) = (colour.R, colour.G, colour.B);
                }
        }

        /// <summary>A thick line, stamped as squares along its length (Bresenham-free: charts have few lines).</summary>
        public void Line(int x0, int y0, int x1, int y1, Rgb colour, int thickness)
        {
            var steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
            for (var s = 0; s <= steps; s++)
            {
                var x = x0 + (steps == 0 ? 0 : (x1 - x0) * s / steps);
                var y = y0 + (steps == 0 ? 0 : (y1 - y0) * s / steps);
                Fill(x - thickness / 2, y - thickness / 2, thickness, thickness, colour);
            }
        }

        /// <summary>Digits and '-' from a 3×5 bitmap font, each cell <paramref name="scale"/> pixels square.</summary>
        public void Text(string text, int x, int y, int scale, Rgb colour, bool alignRight = false, bool centred = false)
        {
            var advance = 4 * scale;
            var width = text.Length * advance - scale;
            var left = alignRight ? x - width : centred ? x - width / 2 : x;
            for (var c = 0; c < text.Length; c++)
            {
                if (!Glyphs.TryGetValue(text[c], out var rows)) continue;
                for (var row = 0; row < 5; row++)
                    for (var col = 0; col < 3; col++)
                        if (rows[row][col] == '#') Fill(left + c * advance + col * scale, y + row * scale, scale, scale, colour);
            }
        }

        private static readonly Dictionary<char, string[]> Glyphs = new()
        {
            ['0'] = ["###", "#.#", "#.#", "#.#", "###"], ['1'] = [".#.", "##.", ".#.", ".#.", "###"],
            ['2'] = ["###", "..#", "###", "#..", "###"], ['3'] = ["###", "..#", "###", "..#", "###"],
            ['4'] = ["#.#", "#.#", "###", "..#", "..#"], ['5'] = ["###", "#..", "###", "..#", "###"],
            ['6'] = ["###", "#..", "###", "#.#", "###"], ['7'] = ["###", "..#", ".#.", ".#.", ".#."],
            ['8'] = ["###", "#.#", "###", "#.#", "###"], ['9'] = ["###", "#.#", "###", "..#", "###"],
            ['-'] = ["...", "...", "###", "...", "..."],
        };

        public byte[] Encode()
        {
            // Each scanline starts with filter type 0 (none); zlib-wrapped deflate is what IDAT holds.
            using var raw = new MemoryStream();
            using (var zlib = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                for (var y = 0; y < height; y++)
                {
                    zlib.WriteByte(0);
                    zlib.Write(_pixels, y * width * 3, width * 3);
                }
            using var png = new MemoryStream();
            png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
            var header = new byte[13];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, width);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
            header[8] = 8; // bit depth
            header[9] = 2; // colour type: RGB
            Chunk(png, "IHDR", header);
            Chunk(png, "IDAT", raw.ToArray());
            Chunk(png, "IEND", []);
            return png.ToArray();
        }

        private static void Chunk(Stream png, string type, byte[] data)
        {
            Span<byte> number = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
            png.Write(number);
            var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            png.Write(typed);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typed));
            png.Write(number);
        }

        private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
        {
            var c = (uint)n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        private static uint Crc32(byte[] bytes)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc ^ 0xFFFFFFFFu;
        }
    }
}
