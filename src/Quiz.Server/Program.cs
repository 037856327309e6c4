using Quiz.Server.Admin;
using Quiz.Server.Hosting;
using Quiz.Server.Questions;
using Quiz.Server.Storage;

// Quiz: the real-time knowledge-quiz server. Each line below adds or maps one feature; the
// feature's folder holds its endpoints, SQL and types. See ../README.md and docs/.

var (command, settings) = Cli.Split(args);
var builder = WebApplication.CreateBuilder(settings);
if (command.Length > 0) Cli.QuietLogging(builder.Logging);

builder.AddHttpBasics();
builder.AddStorage();
builder.AddAdmin();
builder.AddQuestions();

var app = builder.Build();
await app.MigrateStoreAsync();
if (command.Length > 0) return await Cli.RunAsync(app, command);
await app.SeedAsync();

app.UseHttpBasics();
app.MapQuestions();

await app.RunAsync();
return 0;

public partial class Program;
