import { reactive } from "vue";
import type { HubConnection } from "@microsoft/signalr";
import { http, HttpError } from "../shared/http";
import type { Participant } from "../shared/types";
import { closeLiveHub, openLiveHub, type Link } from "./hub";
import { liveError, type LiveAnswerAck, type LiveAudience, type LiveClosed, type LiveEnded, type LiveJoinInfo, type LiveJoined,
  type LiveJoinRequest, type LivePaused, type LivePhase, type LiveQuestion, type LiveReveal, type LiveYou } from "./types";
import { liveErrorText, t } from "./messages";

// The phone's side of a live session (docs/live.md): the code, the join, and what the server
// pushes. The server decides everything; the phone keeps what it said, its rejoin key in
// sessionStorage (a reload or a reconnect rejoins as the same player), and the countdown as the
// phone's own clock time at which the question's `remainingMs` runs out.

export type Step = "code" | "details" | "play";

/** The participant token the phone page keeps (play/session.ts). */
const TOKEN = "quiz.token";
/** The rejoin key, and this tab's answer to the open question, for a reload. */
const KEPT = "quiz.live";

interface Kept { code: string; rejoinKey: string; answered: { index: number; choices: number[] } | null }

function readKept(): Kept | null {
  try { return JSON.parse(sessionStorage.getItem(KEPT) ?? "null") as Kept | null; } catch { return null; }
}
function keep() {
  if (!live.code || !live.rejoinKey) sessionStorage.removeItem(KEPT);
  else sessionStorage.setItem(KEPT, JSON.stringify({ code: live.code, rejoinKey: live.rejoinKey, answered: live.answered } satisfies Kept));
}

export const live = reactive({
  step: "code" as Step,
  code: "",
  info: null as LiveJoinInfo | null,
  token: localStorage.getItem(TOKEN) as string | null,
  participant: null as Participant | null,
  link: "connecting" as Link,
  busy: false,
  error: null as string | null,
  // after the join
  rejoinKey: null as string | null,
  sessionId: null as string | null,
  nickname: "",
  title: "",
  phase: "lobby" as LivePhase,
  audience: 0,
  question: null as LiveQuestion | null,
  /** The phone's clock time (ms) when the open question's time runs out; null when paused. */
  endsAt: null as number | null,
  /** While paused: the time left. */
  pausedLeft: 0,
  answered: null as { index: number; choices: number[] } | null,
  refusedLate: false,
  reveal: null as LiveReveal | null,
  you: null as LiveYou | null,
  ended: null as LiveEnded | null,
});

let hub: HubConnection | null = null;

function errorText(error: unknown): string {
  const code = liveError(error);
  if (code) return liveErrorText(code);
  if (error instanceof HttpError) return error.message;
  return t("err_network");
}

/** On load: a rejoin key of this tab goes straight back into its session; a code from the QR asks for the nickname. */
export async function bootLive() {
  const fromLink = new URLSearchParams(location.search).get("code")?.trim() ?? "";
  const kept = readKept();
  if (live.token) {
    try {
      live.participant = await http<Participant>("/api/participants/me", { bearer: live.token });
    } catch {
      live.token = null; // signed out or gone: join as a guest
    }
  }
  if (kept && (!fromLink || fromLink === kept.code)) {
    live.code = kept.code;
    live.rejoinKey = kept.rejoinKey;
    live.answered = kept.answered;
    live.step = "play";
    try {
      await join({ code: kept.code, rejoinKey: kept.rejoinKey });
      return;
    } catch (error) {
      forget();
      if (liveError(error) !== "session-not-found") live.error = errorText(error);
    }
  }
  if (/^\d{6}$/.test(fromLink)) await lookUp(fromLink);
}

function forget() {
  live.rejoinKey = null;
  live.answered = null;
  live.step = "code";
  sessionStorage.removeItem(KEPT);
}

/** The code step: is there such a session, and what is it called. */
export async function lookUp(code: string) {
  live.error = null;
  if (!/^\d{6}$/.test(code)) {
    live.error = t("needCode");
    return;
  }
  live.busy = true;
  try {
    live.info = await http<LiveJoinInfo>(`/api/live/join/${code}`);
    live.code = code;
    live.step = "details";
  } catch (error) {
    live.error = error instanceof HttpError && error.status === 404 ? t("noSession") : errorText(error);
  } finally {
    live.busy = false;
  }
}

export function changeCode() {
  live.info = null;
  live.error = null;
  live.step = "code";
}

/** The room the open connection was made for: another code needs a connection of its own (to its room's node). */
let hubRoom: string | null = null;

async function connection(): Promise<HubConnection> {
  if (hub && hubRoom === live.code) return hub;
  closeLiveHub(hub);
  hubRoom = live.code;
  hub = await openLiveHub({
    room: live.code,
    token: () => live.token,
    link: state => { live.link = state; },
    onBack: async () => {
      if (!live.rejoinKey) return;
      try { await join({ code: live.code, rejoinKey: live.rejoinKey }); } catch (error) {
        if (liveError(error) === "session-not-found") forget();
        else live.error = errorText(error);
      }
    },
  });
  listen(hub);
  return hub;
}

/** Joins with a guest's nickname and region, as the registered participant (no nickname), or back with the rejoin key. */
export async function join(request: LiveJoinRequest) {
  live.error = null;
  live.busy = true;
  try {
    const hubConnection = await connection();
    for (let attempt = 0; ; attempt++) {
      try {
        takeJoined(await hubConnection.invoke<LiveJoined>("Join", request));
        return;
      } catch (error) {
        // A room's phones join together, many behind the venue's one address: the server lets
        // a few through a second (docs/live.md, section 3), so the rest wait a moment, spread out.
        if (liveError(error) !== "rate-limited" || attempt >= 20) throw error;
        await new Promise(r => setTimeout(r, 1000 + Math.random() * 1000));
      }
    }
  } finally {
    live.busy = false;
  }
}

/** The details step's join; its refusals stay on the form. */
export async function joinAs(nickname: string | null, regionCode: string | null) {
  try {
    // A guest on a phone that holds a participant token says so: the server otherwise joins the token's owner.
    await join(nickname === null ? { code: live.code } : { code: live.code, nickname, regionCode: regionCode ?? undefined, asGuest: !!live.participant });
  } catch (error) {
    live.error = errorText(error);
  }
}

function takeJoined(joined: LiveJoined) {
  const sameSession = live.sessionId === joined.sessionId;
  live.sessionId = joined.sessionId;
  live.rejoinKey = joined.rejoinKey;
  live.nickname = joined.nickname;
  live.title = joined.title;
  live.phase = joined.phase;
  live.you = joined.you;
  // Once questions run, the count comes with each reveal, not pushed: a latecomer starts from this one.
  live.audience = joined.you.audience;
  if (!sameSession) { live.reveal = null; live.ended = null; }
  if (joined.question) takeQuestion(joined.question);
  else if (joined.phase === "lobby") live.question = null;
  live.step = "play";
  keep();
}

function takeQuestion(question: LiveQuestion) {
  if (live.question?.index !== question.index) {
    live.refusedLate = false;
    live.reveal = null;
  }
  if (live.answered && live.answered.index !== question.index) live.answered = null;
  live.question = question;
  live.endsAt = Date.now() + question.remainingMs;
  live.phase = "open";
  keep();
}

function listen(connection: HubConnection) {
  const mine = (message: { sessionId: string }) => message.sessionId === live.sessionId;
  connection.on("LiveAudience", (m: LiveAudience) => { if (mine(m)) live.audience = m.audience; });
  connection.on("LiveQuestion", (m: LiveQuestion) => { if (mine(m)) takeQuestion(m); });
  connection.on("LivePaused", (m: LivePaused) => {
    if (!mine(m)) return;
    live.phase = "paused";
    live.endsAt = null;
    live.pausedLeft = m.remainingMs;
  });
  connection.on("LiveClosed", (m: LiveClosed) => {
    if (!mine(m)) return;
    live.phase = "closed";
    live.endsAt = null;
  });
  connection.on("LiveReveal", (m: LiveReveal) => {
    if (!mine(m)) return;
    live.phase = "revealed";
    live.reveal = m;
    if (m.you) {
      live.you = m.you;
      live.audience = m.you.audience;
    }
  });
  connection.on("LiveEnded", (m: LiveEnded) => {
    if (!mine(m)) return;
    live.phase = "ended";
    live.ended = m;
    // The session is over: a reload starts afresh.
    sessionStorage.removeItem(KEPT);
  });
}

export async function answer(choices: number[]) {
  const question = live.question;
  if (!question || !hub) return;
  live.error = null;
  live.busy = true;
  try {
    const ack = await hub.invoke<LiveAnswerAck>("Answer", { sessionId: live.sessionId, index: question.index, choices });
    if (ack.accepted) {
      live.answered = { index: question.index, choices };
      keep();
    }
  } catch (error) {
    const code = liveError(error);
    // One answer a question, and the first counts: a second tab or a retry after a reconnect lands here.
    if (code === "already-answered") {
      live.answered = { index: question.index, choices };
      keep();
    } else if (code === "question-closed") {
      live.refusedLate = true;
      live.phase = live.phase === "open" ? "closed" : live.phase;
    } else live.error = errorText(error);
  } finally {
    live.busy = false;
  }
}

/** After the end: another session. */
export function again() {
  forget();
  live.info = null;
  live.sessionId = null;
  live.question = null;
  live.reveal = null;
  live.you = null;
  live.ended = null;
  live.phase = "lobby";
  history.replaceState(null, "", "/live");
}
