using System.Text;

namespace Quiz.Server.Questions;

/// <summary>
/// A streaming RFC 4180 reader: quoted fields may hold commas, quotes ("") and line breaks. Every
/// field is bounded, so a file with no line breaks cannot make it buffer without end.
/// </summary>
internal sealed class CsvParser(TextReader reader, int maxFieldChars)
{
    public sealed class FieldTooLongException(int row) : Exception($"Field too long in row {row}")
    {
        public int Row { get; } = row;
    }

    private readonly StringBuilder _field = new();

    /// <summary>The 1-based row of the record being read, for error messages.</summary>
    public int Row { get; private set; }

    public List<string>? ReadRecord()
    {
        var next = reader.Peek();
        if (next < 0) return null;
        Row++;
        var record = new List<string>();
        var quoted = false;
        var fieldStarted = false;
        _field.Clear();
        while (true)
        {
            var c = reader.Read();
            if (c < 0)
            {
                record.Add(_field.ToString());
                return record;
            }
            if (quoted)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); Append('"'); }
                    else quoted = false;
                }
                else Append((char)c);
                continue;
            }
            switch (c)
            {
                case '"' when !fieldStarted:
                    quoted = true;
                    fieldStarted = true;
                    break;
                case ',':
                    record.Add(_field.ToString());
                    _field.Clear();
                    fieldStarted = false;
                    break;
                case '\r':
                    if (reader.Peek() == '\n') reader.Read();
                    record.Add(_field.ToString());
                    return record;
                case '\n':
                    record.Add(_field.ToString());
                    return record;
                default:
                    Append((char)c);
                    fieldStarted = true;
                    break;
            }
        }
    }

    private void Append(char c)
    {
        if (_field.Length >= maxFieldChars) throw new FieldTooLongException(Row);
        _field.Append(c);
    }
}
