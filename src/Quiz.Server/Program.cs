using Quiz.Server.Accounts;
using Quiz.Server.Admin;
using Quiz.Server.Campaigns;
using Quiz.Server.Circulars;
using Quiz.Server.Dashboard;
using Quiz.Server.Diagnostics;
using Quiz.Server.Events;
using Quiz.Server.Hosting;
using Quiz.Server.Live;
using Quiz.Server.Participants;
using Quiz.Server.Play;
using Quiz.Server.Questions;
using Quiz.Server.Rankings;
using Quiz.Server.Rewards;
using Quiz.Server.Security;
using Quiz.Server.Storage;
using Quiz.Server.Surveys;
using Quiz.Server.Units;

// Quiz: the real-time knowledge-quiz server. Each line below adds or maps one feature; the
// feature's folder holds its endpoints, SQL and types. See ../README.md and docs/.

BufferPool.KeepEnoughForALiveRoom();
NativeHeap.KeepFreedPages();
var (command, settings) = Cli.Split(args);
var builder = WebApplication.CreateBuilder(HttpBasics.Options(settings));
if (command.Length > 0) Cli.QuietLogging(builder.Logging);

builder.AddHttpBasics();
builder.AddPages();
builder.AddDiagnostics();
builder.AddStorage();
builder.AddAccess();
builder.AddAdmin();
builder.AddAccounts();
builder.AddQuestions();
builder.AddUnits();
builder.AddCampaigns();
builder.AddParticipants();
builder.AddRankings();
builder.AddPlay();
builder.AddRewards();
builder.AddEvents();
builder.AddDashboard();
builder.AddCirculars();
builder.AddLive();
builder.AddSurveys();

var app = builder.Build();
await app.MigrateStoreAsync();
if (command.Length > 0) return await Cli.RunAsync(app, command);
await app.SeedAsync();
await app.Services.GetRequiredService<RoundService>().VoidInterruptedRoundsAsync();
await app.LoadRankingsAsync();

app.UseSecurityHeaders();
app.UseHttpBasics();
app.UsePages();
app.UseAuthentication();
app.UseAuthorization();
app.MapAccounts();
app.MapQuestions();
app.MapUnits();
app.MapCampaigns();
app.MapParticipants();
app.MapPlay();
app.MapPlayAdmin();
app.MapRankings();
app.MapRewards();
app.MapDashboard();
app.MapCirculars();
app.MapLive();
app.MapSurveys();
app.MapDiagnostics();
app.MapPages();

await app.RunBoundedAsync();
return 0;

public partial class Program;
