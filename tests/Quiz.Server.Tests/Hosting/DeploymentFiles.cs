using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Quiz.Server.Tests.Hosting;

/// <summary>
/// Readers for the deployment files, just enough for <see cref="ContainerDeploymentTests"/>: the
/// plain YAML subset docker-compose.yml is written in, a Dockerfile's instructions, nginx's blocks
/// and directives, and KEY=value files. Each refuses what it does not read (anchors, multi-line
/// scalars, mappings inside sequences) with the line, rather than guess.
/// </summary>
public static partial class DeploymentFiles
{
    // ---------------------------------------------------------------- YAML (a plain subset)

    private sealed record YamlLine(int Number, int Indent, string Text);

    /// <summary>
    /// Block mappings and sequences of scalars, scalars plain or quoted, flow sequences of scalars
    /// (`["CMD", "x"]`) and the empty flow mapping `{}`. Mapping values are
    /// <c>Dictionary&lt;string, object&gt;</c>, <c>List&lt;object&gt;</c> or <c>string</c> ("" for none).
    /// </summary>
    public static Dictionary<string, object> ParseYaml(string text)
    {
        var lines = new List<YamlLine>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.Contains('\t')) throw YamlError(number, "a tab");
            var content = StripComment(line).TrimEnd();
            if (content.Trim().Length == 0) continue;
            if (content.StartsWith("---", StringComparison.Ordinal) || content.StartsWith("...", StringComparison.Ordinal))
                throw YamlError(number, "a document marker");
            lines.Add(new YamlLine(number, content.Length - content.TrimStart().Length, content.Trim()));
        }
        if (lines.Count == 0) return [];
        if (lines[0].Indent != 0) throw YamlError(lines[0].Number, "an indented first line");
        var i = 0;
        var root = ParseMapping(lines, ref i, 0);
        if (i < lines.Count) throw YamlError(lines[i].Number, "an indentation that closes no block");
        return root;
    }

    private static Dictionary<string, object> ParseMapping(List<YamlLine> lines, ref int i, int indent)
    {
        var map = new Dictionary<string, object>(StringComparer.Ordinal);
        while (i < lines.Count && lines[i].Indent == indent)
        {
            var line = lines[i];
            if (IsSequenceItem(line.Text)) throw YamlError(line.Number, "a sequence item where a key was expected");
            var colon = KeyEnd(line.Text);
            if (colon < 0) throw YamlError(line.Number, "a line that is not `key: value`");
            var key = Unquote(line.Text[..colon].Trim(), line.Number);
            if (key == "<<") throw YamlError(line.Number, "a merge key (<<)");
            if (map.ContainsKey(key)) throw YamlError(line.Number, $"the key '{key}' twice");
            var rest = line.Text[(colon + 1)..].Trim();
            i++;
            if (rest.Length > 0) map[key] = Scalar(rest, line.Number);
            else if (i < lines.Count && lines[i].Indent > indent)
                map[key] = IsSequenceItem(lines[i].Text) ? ParseSequence(lines, ref i, lines[i].Indent) : ParseMapping(lines, ref i, lines[i].Indent);
            else if (i < lines.Count && lines[i].Indent == indent && IsSequenceItem(lines[i].Text))
                map[key] = ParseSequence(lines, ref i, indent);
            else map[key] = "";
        }
        if (i < lines.Count && lines[i].Indent > indent) throw YamlError(lines[i].Number, "an indentation that closes no block");
        return map;
    }

    private static List<object> ParseSequence(List<YamlLine> lines, ref int i, int indent)
    {
        var list = new List<object>();
        while (i < lines.Count && lines[i].Indent == indent && IsSequenceItem(lines[i].Text))
        {
            var line = lines[i];
            var item = line.Text[1..].Trim();
            if (item.Length == 0 || KeyEnd(item) >= 0) throw YamlError(line.Number, "a mapping inside a sequence (write the short form)");
            list.Add(Scalar(item, line.Number));
            i++;
        }
        return list;
    }

    private static bool IsSequenceItem(string text) => text == "-" || text.StartsWith("- ", StringComparison.Ordinal);

    /// <summary>Where a key ends: the first colon outside quotes followed by a space or the end of the line.</summary>
    private static int KeyEnd(string text)
    {
        char? quote = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote is not null) { if (c == quote) quote = null; continue; }
            if (c is '"' or '\'' && i == 0) { quote = c; continue; }
            if (c is '[' or '{' && i == 0) return -1;
            if (c == ':' && (i + 1 == text.Length || text[i + 1] == ' ')) return i;
        }
        return -1;
    }

    private static string StripComment(string line)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is not null) { if (c == quote) quote = null; continue; }
            if (c is '"' or '\'' && (i == 0 || line[i - 1] is ' ' or '[' or ',' or '-' or ':')) quote = c;
            else if (c == '#' && (i == 0 || line[i - 1] == ' ')) return line[..i];
        }
        return line;
    }

    private static object Scalar(string text, int number)
    {
        if (text[0] is '&' or '*') throw YamlError(number, "an anchor or alias");
        if (text[0] is '|' or '>') throw YamlError(number, "a multi-line scalar");
        if (text == "{}") return new Dictionary<string, object>(StringComparer.Ordinal);
        if (text[0] == '{') throw YamlError(number, "a flow mapping other than {}");
        if (text[0] != '[') return Unquote(text, number);
        if (text[^1] != ']') throw YamlError(number, "a flow sequence that does not end on its line");
        var items = new List<object>();
        var current = new StringBuilder();
        char? quote = null;
        foreach (var c in text[1..^1])
        {
            if (quote is not null) { if (c == quote) quote = null; current.Append(c); continue; }
            if (c is '"' or '\'') { quote = c; current.Append(c); continue; }
            if (c == ',') { items.Add(Unquote(current.ToString().Trim(), number)); current.Clear(); continue; }
            if (c is '[' or '{') throw YamlError(number, "a nested flow collection");
            current.Append(c);
        }
        if (current.ToString().Trim().Length > 0) items.Add(Unquote(current.ToString().Trim(), number));
        return items;
    }

    private static string Unquote(string text, int number)
    {
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
        {
            var inner = text[1..^1];
            if (inner.Contains('\\')) throw YamlError(number, "an escape in a double-quoted string");
            return inner;
        }
        if (text.Length >= 2 && text[0] == '\'' && text[^1] == '\'') return text[1..^1].Replace("''", "'", StringComparison.Ordinal);
        if (text[0] is '"' or '\'') throw YamlError(number, "a quoted string that does not end on its line");
        return text;
    }

    private static FormatException YamlError(int line, string what) =>
        new($"line {line}: {what}; this check reads plain YAML only (block mappings, sequences of scalars, one-line scalars)");

    /// <summary>A path of keys into parsed YAML; null when some key is missing.</summary>
    public static object? At(object? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not Dictionary<string, object> map || !map.TryGetValue(key, out node)) return null;
        }
        return node;
    }

    public static Dictionary<string, object> Map(object? node) => node as Dictionary<string, object> ?? [];

    public static List<string> Strings(object? node) => node switch
    {
        List<object> list => list.Select(o => o as string ?? "").ToList(),
        string s when s.Length > 0 => [s],
        _ => [],
    };

    // ---------------------------------------------------------------- ${VAR} interpolation

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<op>:?[-?])?(?<arg>[^}]*)\}")]
    private static partial Regex Variable();

    /// <summary>The variables a compose value refers to.</summary>
    public static IEnumerable<string> Variables(string value) => Variable().Matches(value).Select(m => m.Groups["name"].Value);

    /// <summary>A compose value with ${VAR}, ${VAR:?message} and ${VAR:-default} replaced from <paramref name="env"/>.</summary>
    public static string Interpolate(string value, IReadOnlyDictionary<string, string> env) =>
        Variable().Replace(value, m =>
        {
            var found = env.TryGetValue(m.Groups["name"].Value, out var v) ? v : null;
            var op = m.Groups["op"].Value;
            var empty = op.StartsWith(':') ? string.IsNullOrEmpty(found) : found is null;
            return !empty ? found! : op.EndsWith('-') ? m.Groups["arg"].Value : "";
        });

    // ---------------------------------------------------------------- KEY=value files

    /// <summary>.env and deploy/topology.env: KEY=value lines, # comments, values optionally quoted.</summary>
    public static Dictionary<string, string> ParseEnvFile(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new FormatException($"'{line}' is not KEY=value");
            var value = line[(eq + 1)..].Trim();
            if (value.Length >= 2 && value[0] is '"' or '\'' && value[^1] == value[0]) value = value[1..^1];
            values[line[..eq].Trim()] = value;
        }
        return values;
    }

    public static string[] Words(string value) => value.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    // ---------------------------------------------------------------- Dockerfile

    public sealed record DockerStage(string Image, string? Name, List<(string Instruction, string Arguments)> Instructions)
    {
        public IEnumerable<string> All(string instruction) =>
            Instructions.Where(i => i.Instruction == instruction).Select(i => i.Arguments);

        /// <summary>The stage's ENV, later ones winning (both `ENV a=b c=d` and `ENV a b`).</summary>
        public Dictionary<string, string> Environment()
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var args in All("ENV"))
            {
                var words = Words(args);
                if (words.Length > 0 && !words[0].Contains('=')) { env[words[0]] = string.Join(' ', words.Skip(1)); continue; }
                foreach (var word in words)
                {
                    var eq = word.IndexOf('=', StringComparison.Ordinal);
                    if (eq > 0) env[word[..eq]] = word[(eq + 1)..].Trim('"');
                }
            }
            return env;
        }
    }

    /// <summary>The stages of a Dockerfile, each with its instructions (continuations joined, comments dropped).</summary>
    public static List<DockerStage> ParseDockerfile(string text)
    {
        var stages = new List<DockerStage>();
        var logical = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#')) continue;
            if (line.EndsWith('\\')) { logical.Append(line[..^1]).Append(' '); continue; }
            logical.Append(line);
            var instruction = logical.ToString().Trim();
            logical.Clear();
            if (instruction.Length == 0) continue;
            var space = instruction.IndexOf(' ', StringComparison.Ordinal);
            var name = (space < 0 ? instruction : instruction[..space]).ToUpperInvariant();
            var arguments = space < 0 ? "" : Regex.Replace(instruction[(space + 1)..].Trim(), @"\s+", " ");
            if (name == "FROM")
            {
                var words = Words(arguments).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
                stages.Add(new DockerStage(words[0], words.Length >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null, []));
            }
            else if (stages.Count == 0) throw new FormatException($"'{instruction}' comes before the first FROM");
            else stages[^1].Instructions.Add((name, arguments));
        }
        return stages;
    }

    // ---------------------------------------------------------------- nginx

    /// <summary>nginx's configuration without its comments.</summary>
    public static string StripNginxComments(string text) =>
        string.Join('\n', text.Split('\n').Select(l => l.IndexOf('#', StringComparison.Ordinal) is var at and >= 0 ? l[..at] : l));

    /// <summary>The inside of the first block whose header matches (e.g. `location /hubs/`), nested blocks included.</summary>
    public static string? NginxBlock(string text, string header)
    {
        var match = Regex.Match(text, @"(^|[\s;{}])" + header + @"\s*\{", RegexOptions.Multiline);
        if (!match.Success) return null;
        var start = match.Index + match.Length;
        var depth = 1;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return text[start..i];
        }
        return null;
    }

    /// <summary>The directives of a block's own level (nested blocks left out), each as its words.</summary>
    public static List<string[]> NginxDirectives(string block)
    {
        var own = new StringBuilder();
        var depth = 0;
        foreach (var c in block)
        {
            if (c == '{') { depth++; if (depth == 1) own.Append(';'); continue; }
            if (c == '}') { depth--; continue; }
            if (depth == 0) own.Append(c);
        }
        return own.ToString().Split(';')
            .Select(d => Regex.Split(d.Trim(), @"\s+").Where(w => w.Length > 0).Select(w => w.Trim('"', '\'')).ToArray())
            .Where(d => d.Length > 0)
            .ToList();
    }

    /// <summary>The value of `name` in a block's own directives, e.g. proxy_set_header Upgrade → $http_upgrade.</summary>
    public static string? NginxHeader(List<string[]> directives, string header) =>
        directives.FirstOrDefault(d => d is ["proxy_set_header", var h, _] && h.Equals(header, StringComparison.OrdinalIgnoreCase))?[2];

    public static int? Port(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : null;
}
