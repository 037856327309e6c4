import { reactive } from "vue";
import type { HubConnection } from "@microsoft/signalr";
import { http, HttpError } from "../shared/http";
import { hubError } from "../shared/hubError";
import { pickCampaign, currentStage } from "../shared/campaigns";
import type { AnswerResult, Campaign, Participant, RoundResult, RoundView } from "../shared/types";
import { hubErrorText, t } from "./messages";
import { restoreChoice, sceneName, sceneRefusal, started } from "./scenes";

// The phone page's one piece of state: who plays, which campaign, the hub connection and the
// round in play. The server decides everything; this keeps what it said and the clock offset.

export type View = "loading" | "register" | "home" | "rules" | "round" | "result" | "boards" | "share" | "invite";
export type Link = "offline" | "connecting" | "connected" | "reconnecting";

const TOKEN = "quiz.token";

export const session = reactive({
  view: "loading" as View,
  token: localStorage.getItem(TOKEN) as string | null,
  participant: null as Participant | null,
  campaigns: [] as Campaign[],
  campaign: null as Campaign | null,
  link: "offline" as Link,
  /** Shown briefly after a reconnect. */
  justReconnected: false,
  round: null as RoundView | null,
  /** The answers of the round in play, by position. */
  answers: {} as Record<number, { choices: number[]; result: AnswerResult | null }>,
  /** The question on screen. */
  position: 0,
  /** Server time minus phone time, in ms: the countdown runs on the server's clock. */
  clockOffset: 0,
  result: null as RoundResult | null,
  /** The result the last answer brought (it finished the round), shown when the player moves on. */
  finished: null as RoundResult | null,
  finishing: false,
  /** A start is on its way (waiting for the connection, then the server): the button waits with it. */
  starting: false,
  error: null as string | null,
  /** A good news line for the next screen (e.g. the invitation was recorded with the sign-up). */
  notice: null as string | null,
});

let hub: HubConnection | null = null;

export function errorText(error: unknown): string {
  const { code } = hubError(error);
  if (code) return hubErrorText(code);
  if (error instanceof HttpError) return error.message;
  return t("err_network");
}

export async function boot() {
  const wanted = new URLSearchParams(location.search).get("c");
  try {
    session.campaigns = await http<Campaign[]>("/api/campaigns");
  } catch {
    session.campaigns = [];
  }
  session.campaign = pickCampaign(session.campaigns, wanted);
  restoreChoice(session.campaign);
  if (!session.token) {
    session.view = "register";
    return;
  }
  try {
    session.participant = await http<Participant>("/api/participants/me", { bearer: session.token });
  } catch (error) {
    if (error instanceof HttpError && (error.status === 401 || error.status === 404)) {
      signOut();
      return;
    }
  }
  session.view = "home";
  await connect();
  await resume();
}

export function signedIn(token: string, participant: Participant) {
  session.token = token;
  session.participant = participant;
  localStorage.setItem(TOKEN, token);
  session.view = "home";
  void connect();
}

export function signOut() {
  localStorage.removeItem(TOKEN);
  session.token = null;
  session.participant = null;
  session.round = null;
  session.result = null;
  session.notice = null;
  session.view = "register";
  void hub?.stop();
  hub = null;
  session.link = "offline";
}

// Phones drop their connection all the time: retry for ever, quickly at first.
const retryDelays = [0, 1000, 2000, 3000, 5000];

// SignalR's client (55 KB) is needed once someone has signed up, not on the first screen: it
// loads with the first connection (issue 14: the first load stays under 80 KB).
const signalr = () => import("@microsoft/signalr");
const isConnected = (connection: HubConnection | null): connection is HubConnection =>
  connection?.state === ("Connected" as HubConnection["state"]);

async function connect() {
  if (hub || !session.token) return;
  const { HubConnectionBuilder, LogLevel } = await signalr();
  if (hub || !session.token) return; // connected, or signed out, while the client loaded
  const connection = new HubConnectionBuilder()
    .withUrl("/hubs/play", { accessTokenFactory: () => session.token ?? "" })
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => retryDelays[ctx.previousRetryCount] ?? 5000 })
    .withStatefulReconnect()
    .configureLogging(LogLevel.Warning)
    .build();
  hub = connection;
  connection.on("RoundFinished", (result: RoundResult) => showResult(result));
  connection.onreconnecting(() => { session.link = "reconnecting"; });
  connection.onreconnected(async () => {
    session.link = "connected";
    session.justReconnected = true;
    setTimeout(() => { session.justReconnected = false; }, 3000);
    await resume();
  });
  connection.onclose(() => {
    // The automatic reconnect gave up (or the server refused it): start again from scratch.
    if (hub !== connection) return;
    session.link = "reconnecting";
    setTimeout(() => void startConnection(connection, true), 3000);
  });
  await startConnection(connection, false);
}

async function startConnection(connection: HubConnection, resuming: boolean) {
  if (hub !== connection) return;
  session.link = resuming ? "reconnecting" : "connecting";
  for (let attempt = 0; hub === connection; attempt++) {
    try {
      await connection.start();
      session.link = "connected";
      if (resuming) await resume();
      return;
    } catch (error) {
      if (error instanceof Error && /401|Unauthorized/.test(error.message)) {
        signOut();
        return;
      }
      session.link = "reconnecting";
      await new Promise(r => setTimeout(r, retryDelays[Math.min(attempt + 1, retryDelays.length - 1)]));
    }
  }
}

async function ready(): Promise<HubConnection> {
  await connect();
  for (let i = 0; i < 100 && hub && !isConnected(hub); i++) await new Promise(r => setTimeout(r, 100));
  if (!isConnected(hub)) throw new Error("not connected");
  return hub;
}

function takeRound(view: RoundView) {
  session.round = view;
  session.clockOffset = Date.parse(view.serverNow) - Date.now();
  session.answers = {};
  for (const given of view.answers) session.answers[given.position] = { choices: given.choices, result: given.result };
  const firstOpen = view.questions.findIndex(q => !session.answers[q.position]);
  // With answers shown, stay on the last answered question until the player moves on.
  session.position = firstOpen === -1 ? view.questions.length - 1 : firstOpen;
  session.result = null;
  session.finished = null;
  session.finishing = false;
  session.view = "round";
}

async function reloadCampaign() {
  const id = session.campaign?.id;
  if (!id) return;
  try {
    const fresh = await http<Campaign>(`/api/campaigns/${encodeURIComponent(id)}`);
    session.campaigns = session.campaigns.map(c => (c.id === id ? fresh : c));
    if (session.campaign?.id === id) session.campaign = fresh;
  } catch {
    // Offline or gone: the message already asks to choose again; the next start will tell.
  }
}

/** After a reconnect or a reload: take back the round in play, or its result if it finished meanwhile. */
export async function resume() {
  if (!isConnected(hub) || !session.campaign) return;
  try {
    const current = await hub.invoke<RoundView | null>("CurrentRound", session.campaign.id);
    if (current) {
      const sameRound = session.round?.roundId === current.roundId;
      const position = session.position;
      takeRound(current);
      // Keep the question on screen when it is still this round.
      if (sameRound && session.answers[position]) session.position = position;
      return;
    }
    if (session.round && session.view === "round") {
      const result = await hub.invoke<RoundResult>("Finish", { roundId: session.round.roundId });
      showResult(result);
    }
  } catch (error) {
    session.error = errorText(error);
  }
}

/** Starts a round; `scene` is required when the stage has scenes (the picker's choice), else left out. */
export async function startRound(scene: string | null = null) {
  const campaign = session.campaign;
  if (!campaign || session.starting) return;
  session.error = null;
  session.starting = true;
  try {
    const connection = await ready();
    const request = scene ? { campaignId: campaign.id, scene } : { campaignId: campaign.id };
    const view = await connection.invoke<RoundView>("StartRound", request);
    started(campaign, view.scene);
    takeRound(view);
  } catch (error) {
    // The scene refusals' texts carry ids (docs/protocol.md, section 5): the page reads them, never shows them.
    const { code, detail } = hubError(error);
    const refused = code ? sceneRefusal(campaign, code, detail) : null;
    if (!refused || !code) session.error = errorText(error);
    else if (code === "scene-taken" && !refused.scene) session.error = t("err_scene-taken-unnamed");
    else session.error = hubErrorText(code, { scene: sceneName(campaign, refused.scene) });
    // The campaign changed since the page loaded it (an admin renamed a scene): offer its scenes as they are now.
    if (code === "unknown-scene") await reloadCampaign();
    // A refused scene sends the player back to the picker, wherever the start came from.
    if (refused) session.view = "home";
  } finally {
    session.starting = false;
  }
}

export async function answer(position: number, choices: number[]): Promise<void> {
  if (!session.round) return;
  session.error = null;
  // The last open question finishes the round in the same call: no Finish round trip after it
  // (docs/protocol.md, Answer's `finish`).
  const round = session.round;
  const last = round.questions.every(q => q.position === position || !!session.answers[q.position]);
  // The finishing answer waits for the round's commit: the page says it is handing in meanwhile.
  if (last) session.finishing = true;
  try {
    const connection = await ready();
    const request = last ? { roundId: round.roundId, position, choices, finish: true } : { roundId: round.roundId, position, choices };
    const result = await connection.invoke<AnswerResult>("Answer", request);
    session.answers[position] = { choices, result };
    if (result.result) session.finished = result.result;
    if (last) session.finishing = false;
    // Without answers shown there is nothing to read: go straight on (to the result after the last).
    if (result.key === null) {
      if (result.result) showResult(result.result);
      else nextQuestion();
    }
  } catch (error) {
    if (last) session.finishing = false;
    const { code } = hubError(error);
    if (code === "deadline-passed" || code === "round-finished") await finish();
    else session.error = errorText(error);
  }
}

export function nextQuestion() {
  if (!session.round) return;
  const next = session.round.questions.findIndex(q => q.position > session.position && !session.answers[q.position]);
  if (next !== -1) session.position = next;
  else {
    const open = session.round.questions.findIndex(q => !session.answers[q.position]);
    if (open !== -1) session.position = open;
  }
}

export async function finish() {
  if (!session.round || session.finishing) return;
  if (session.finished?.roundId === session.round.roundId) {
    showResult(session.finished);
    return;
  }
  session.finishing = true;
  session.error = null;
  const roundId = session.round.roundId;
  for (let attempt = 0; attempt < 30 && session.round?.roundId === roundId && !session.result; attempt++) {
    try {
      const connection = await ready();
      showResult(await connection.invoke<RoundResult>("Finish", { roundId }));
      return;
    } catch (error) {
      if (hubError(error).code === "round-not-found") {
        session.error = errorText(error);
        session.round = null;
        session.finishing = false;
        session.view = "home";
        return;
      }
      await new Promise(r => setTimeout(r, 1000));
    }
  }
  session.finishing = false;
}

function showResult(result: RoundResult) {
  if (session.round && session.round.roundId !== result.roundId) return;
  session.result = result;
  session.finishing = false;
  session.view = "result";
}

/** The stage the leaderboards show: the one of the last round, else the one open today. */
export function boardStage(): string | null {
  if (session.round) return session.round.stageId;
  return session.campaign ? currentStage(session.campaign)?.id ?? null : null;
}

export function go(view: View) {
  session.error = null;
  session.notice = null;
  session.view = view;
}
