using System.Data;
using Microsoft.Data.Sqlite;

namespace Quiz.Server.Storage;

/// <summary>
/// A SQLite connection whose commands name their parameters the way the SQL does ("@RoundId").
/// Dapper names a parameter without its prefix ("RoundId"), and Microsoft.Data.Sqlite then binds
/// it by trying the bare name and each of the prefixes '@', '$' and ':' in turn, to rule out an
/// ambiguity: four name lookups in the statement, three string concatenations and four UTF-8
/// copies of the name a parameter an execution. A finish binds ~55 parameters, and in a profile
/// of `loadtests/run.sh sustained` that binding made 15 % of the server's allocations
/// (BENCHMARKS.md). With the prefix in the name, a bind is one lookup and one copy. Every
/// statement of the store writes its parameters as '@name'.
/// <para>
/// With <paramref name="keepStatements"/> (the store writer's own connection, open for as long as
/// the writer runs) each SQL text is compiled once and its statement kept: Dapper makes a new
/// command for every execution, and Microsoft.Data.Sqlite compiles its text again every time
/// (dotnet/efcore#14044). Compiling was half of SQLite's time on the writer thread in sustained
/// play (BENCHMARKS.md, "The writer's statements compiled once"). A command executes on the kept
/// command of its text, with its own parameters lent for the execution; a text whose kept command
/// is still reading (a nested use) runs as before.
/// </para>
/// </summary>
sealed class PrefixedSqliteConnection(string connectionString, bool keepStatements = false) : SqliteConnection(connectionString)
{
    /// <summary>Texts kept at most: Dapper's list expansion makes a text a list length, so their number has no bound of its own.</summary>
    public const int KeptLimit = 256;

    readonly Dictionary<string, PrefixedSqliteCommand>? kept = keepStatements ? new(StringComparer.Ordinal) : null;

    /// <summary>How many texts have been compiled into kept commands, and how many are kept now (tests).</summary>
    public int Compiled { get; private set; }
    public int Kept => kept?.Count ?? 0;

    public override SqliteCommand CreateCommand() =>
        new PrefixedSqliteCommand { Connection = this, CommandTimeout = DefaultTimeout, Transaction = Transaction };

    // Dispose closes too.
    public override void Close()
    {
        ForgetKept();
        base.Close();
    }

    void ForgetKept()
    {
        if (kept is null) return;
        foreach (var command in kept.Values) command.Dispose();
        kept.Clear();
    }

    /// <summary>Makes room: the kept commands not reading go (one reading would close its caller's reader).</summary>
    void ForgetIdle()
    {
        foreach (var (text, command) in kept!.Where(k => !k.Value.Reading).ToList())
        {
            kept!.Remove(text);
            command.Dispose();
        }
    }

    /// <summary>The kept command for a text, made on its first use; null where there is none to lend (not kept, or busy reading).</summary>
    PrefixedSqliteCommand? Lend(string text)
    {
        if (kept is null) return null;
        if (kept.TryGetValue(text, out var command)) return command.Reading ? null : command;
        if (kept.Count >= KeptLimit) ForgetIdle();
        command = new PrefixedSqliteCommand(isKept: true) { Connection = this, CommandText = text };
        kept[text] = command;
        Compiled++;
        return command;
    }

    /// <summary>A kept command whose execution failed may hold its statement mid-step: it is compiled afresh next time.</summary>
    void Forget(string text, PrefixedSqliteCommand command)
    {
        if (kept is not null && kept.Remove(text)) command.Dispose();
    }

    sealed class PrefixedSqliteCommand(bool isKept = false) : SqliteCommand
    {
        public override SqliteParameter CreateParameter() => new PrefixedSqliteParameter();

        /// <summary>A reader of this command is open: the kept command cannot be lent.</summary>
        public bool Reading => DataReader is not null;

        /// <summary>
        /// Every execution comes here: ExecuteNonQuery, ExecuteScalar and the async forms all read
        /// through ExecuteReader(CommandBehavior) in Microsoft.Data.Sqlite.
        /// </summary>
        public override SqliteDataReader ExecuteReader(CommandBehavior behavior)
        {
            if (isKept || Connection is not PrefixedSqliteConnection connection || connection.Lend(CommandText) is not { } command)
                return base.ExecuteReader(behavior);
            command.Transaction = Transaction;
            command.CommandTimeout = CommandTimeout;
            // The parameters are lent, not copied, and stay lent until the next execution: a text of
            // several statements binds each one as its reader reaches it. A statement binds only the
            // names it has, and one it has but is not given fails as it would have: an earlier
            // execution's value is never reused.
            command.Parameters.Clear();
            foreach (SqliteParameter p in Parameters) command.Parameters.Add(p);
            try { return command.ExecuteReader(behavior); }
            catch
            {
                connection.Forget(CommandText, command);
                throw;
            }
        }
    }

    sealed class PrefixedSqliteParameter : SqliteParameter
    {
        string name = "";

        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string ParameterName
        {
            get => name;
            set => name = value is { Length: > 0 } && value[0] is not ('@' or '$' or ':') ? "@" + value : value ?? "";
        }
    }
}
