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
/// </summary>
sealed class PrefixedSqliteConnection(string connectionString) : SqliteConnection(connectionString)
{
    public override SqliteCommand CreateCommand() =>
        new PrefixedSqliteCommand { Connection = this, CommandTimeout = DefaultTimeout, Transaction = Transaction };

    sealed class PrefixedSqliteCommand : SqliteCommand
    {
        public override SqliteParameter CreateParameter() => new PrefixedSqliteParameter();
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
