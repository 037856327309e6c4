using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Quiz.Server.Play;

namespace Quiz.Cluster.Tests.Infrastructure;

/// <summary>
/// A participant playing full rounds through nginx until the day's attempts are used up, as a
/// phone does when its node dies: the connection drops, the phone connects again (nginx sends it
/// to a node that is alive), carries on with the round in play (<c>CurrentRound</c>: the rounds
/// are in Redis) or asks again for the result of a round whose Finish (or finishing answer) got no
/// answer, and plays on.
/// What the servers acknowledged is kept, with every reconnection and lost round.
/// </summary>
public sealed class ClusterPlayer(Phone phone, string token, long participantId, string node)
{
    /// <summary>Each answer waits longer than the demo stage's minimum answer time (800 ms), so no round is flagged.</summary>
    public static readonly TimeSpan ThinkTime = TimeSpan.FromMilliseconds(850);

    public long ParticipantId { get; } = participantId;
    /// <summary>The node that served the registration: nginx keeps this phone there while it lives.</summary>
    public string Node { get; } = node;
    public ConcurrentQueue<(RoundResult Result, DateTime At)> Acknowledged { get; } = new();
    public int Reconnections { get; private set; }
    /// <summary>Rounds whose node died before they were finished (or before their Finish was stored).</summary>
    public int LostRounds { get; private set; }
    public List<Exception> Errors { get; } = [];

    public async Task PlayAsync(CancellationToken stop)
    {
        HubConnection? hub = null;
        string? unanswered = null; // a Finish sent without a reply
        string? playing = null; // a round started and not yet finished
        try
        {
            hub = await ConnectAsync(stop);
            for (var rounds = 0; rounds < 3 * ClusterFixture.AttemptsPerDay && !stop.IsCancellationRequested; rounds++)
            {
                try
                {
                    if (unanswered is not null)
                    {
                        // Asked again on whatever node nginx chose: a stored round answers from the store.
                        var again = await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(unanswered), stop);
                        Acknowledged.Enqueue((again, DateTime.UtcNow));
                        unanswered = playing = null;
                        continue;
                    }
                    // After a reconnect, the round in play goes on where it was, on whatever node.
                    var round = playing is not null
                        ? await hub.InvokeAsync<RoundView?>("CurrentRound", ClusterFixture.Campaign, stop)
                        : null;
                    if (playing is not null && round is null)
                    {
                        // Not in play any more: finished at its deadline meanwhile (its result is kept), or lost with its node.
                        unanswered = playing;
                        continue;
                    }
                    round ??= await hub.InvokeAsync<RoundView>("StartRound", new StartRoundRequest(ClusterFixture.Campaign), stop);
                    playing = round.RoundId;
                    // Every other round ends with its last answer (finish: true, as the phone page does), the others with Finish.
                    var finishWithAnswer = rounds % 2 == 1;
                    RoundResult? result = null;
                    for (var q = 0; q < round.Questions.Count; q++)
                    {
                        if (round.Answers.Any(a => a.Position == q)) continue; // answered before the node died
                        await Task.Delay(ThinkTime, stop);
                        var last = finishWithAnswer && q == round.Questions.Count - 1;
                        if (last) unanswered = round.RoundId; // its reply lost, Finish asks for the result
                        var answered = await hub.InvokeAsync<AnswerResult>("Answer", new AnswerRequest(round.RoundId, q, [q % 2], Finish: last), stop);
                        if (last) result = answered.Result ?? throw new InvalidOperationException($"round {round.RoundId}: the finishing answer came back without the result");
                    }
                    unanswered = round.RoundId;
                    result ??= await hub.InvokeAsync<RoundResult>("Finish", new FinishRequest(round.RoundId), stop);
                    unanswered = playing = null;
                    Acknowledged.Enqueue((result, DateTime.UtcNow));
                }
                catch (HubException e) when (e.Message.Contains(PlayErrors.NoAttemptsLeft + ":"))
                {
                    return; // the day's attempts are used up: done, as a person would be
                }
                catch (HubException e) when (e.Message.Contains(PlayErrors.RoundNotFound + ":"))
                {
                    // The round did not survive its node: it was never acknowledged, and a new one starts.
                    LostRounds++;
                    unanswered = playing = null;
                }
                catch (Exception e) when (e is not HubException && !stop.IsCancellationRequested)
                {
                    if (!await DroppedAsync(hub)) throw;
                    await hub.DisposeAsync();
                    hub = await ConnectAsync(stop);
                    Reconnections++;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (Exception e) { Errors.Add(e); }
        finally
        {
            if (hub is not null) await hub.DisposeAsync();
        }
    }

    /// <summary>Whether the connection is gone (its state follows a dropped socket within moments).</summary>
    private static async Task<bool> DroppedAsync(HubConnection hub)
    {
        for (var i = 0; i < 40 && hub.State == HubConnectionState.Connected; i++) await Task.Delay(50);
        return hub.State != HubConnectionState.Connected;
    }

    /// <summary>Connects through nginx, trying again for a while: a node that just died takes nginx a failed attempt to skip.</summary>
    private async Task<HubConnection> ConnectAsync(CancellationToken stop)
    {
        for (var attempt = 1; ; attempt++)
        {
            var hub = phone.Hub(token);
            try
            {
                await hub.StartAsync(stop);
                return hub;
            }
            catch (Exception) when (attempt < 40 && !stop.IsCancellationRequested)
            {
                await hub.DisposeAsync();
                await Task.Delay(250, stop);
            }
        }
    }
}
