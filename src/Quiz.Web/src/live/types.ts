// The live sessions' shapes, straight from docs/live.md (the contract the server is built from).
// The hub's messages are not in the server's OpenAPI document, so they are declared here, in one
// place; where the document gains a shape, take the generated one (../shared/types.ts) instead.

export type LivePhase = "lobby" | "open" | "paused" | "closed" | "revealed" | "ended";
export type LiveRoundKind = "must-answer" | "buzz";
export type LiveAction = "show" | "close" | "reveal" | "pause" | "resume" | "skip" | "end";

export interface LiveRound { kind: LiveRoundKind; questions: number }
export interface LiveSpeed { points: number; minShare: number }

/** `POST /api/live/sessions` (docs/live.md, section 1). */
export interface LiveSessionRequest {
  title: string;
  unitCode?: string | null;
  questions: { ids: string[] } | { track: string; category: string | null; count: number };
  rounds: LiveRound[];
  questionSeconds: number;
  speed: LiveSpeed;
}

export interface LiveSession {
  id: string;
  code: string;
  title: string;
  unitCode: string | null;
  unitName: string | null;
  createdBy: string;
  createdAt: string;
  phase: LivePhase;
  questionCount: number;
  rounds: LiveRound[];
  questionSeconds: number;
  speed: LiveSpeed;
  audience: number;
  joinUrl: string;
}

/** `GET /api/live/join/{code}`. */
export interface LiveJoinInfo { sessionId: string; title: string; unitName: string | null; phase: LivePhase; audience: number }

export interface LiveStanding { place: number; nickname: string; regionName: string | null; points: number; right: number }

/** A question as the phones get it: no key. */
export interface LiveQuestion {
  sessionId: string;
  index: number;
  count: number;
  round: number;
  kind: LiveRoundKind;
  type: string;
  stem: string;
  options: string[];
  deadline: string;
  remainingMs: number;
  serverNow: string;
}

/** A question as the host gets it: with its key and explanation. */
export interface LiveHostQuestion extends Omit<LiveQuestion, "sessionId" | "deadline" | "remainingMs"> {
  key: number[];
  explanation: string | null;
  /** While open or paused; null otherwise. */
  deadline: string | null;
  remainingMs: number | null;
}

export interface LiveHostView {
  session: LiveSession;
  phase: LivePhase;
  index: number;
  question: LiveHostQuestion | null;
  answered: number;
  distribution: number[];
  top: LiveStanding[];
  skipped: boolean;
  podium: LiveStanding[];
}

export interface LiveYou {
  index: number;
  answered: boolean;
  correct: boolean;
  points: number;
  total: number;
  place: number;
  audience: number;
}

export interface LiveJoined {
  sessionId: string;
  playerId: number;
  rejoinKey: string;
  nickname: string;
  title: string;
  phase: LivePhase;
  question: LiveQuestion | null;
  you: LiveYou | null;
}

export interface LiveJoinRequest { code?: string; nickname?: string; regionCode?: string; rejoinKey?: string }
export interface LiveAnswerAck { index: number; accepted: boolean; elapsedMs: number }

// Pushed by the server (docs/live.md, "What the server pushes").
export interface LiveAudience { sessionId: string; audience: number }
export interface LivePaused { sessionId: string; index: number; remainingMs: number }
export interface LiveClosed { sessionId: string; index: number }
export interface LiveReveal {
  sessionId: string;
  index: number;
  skipped: boolean;
  key: number[];
  explanation: string | null;
  distribution: number[];
  top: LiveStanding[];
  buzzWinner: LiveStanding | null;
}
export interface LiveEnded { sessionId: string; podium: LiveStanding[]; top: LiveStanding[] }
export interface LiveAnswered { sessionId: string; index: number; answered: number }

/** The hub's refusals (docs/live.md, section 5). */
export const liveErrorCodes = [
  "invalid-request", "session-not-found", "not-host", "wrong-phase", "not-joined", "wrong-session",
  "question-closed", "already-answered", "nickname-refused", "unknown-region", "rate-limited",
] as const;
export type LiveErrorCode = (typeof liveErrorCodes)[number];

const known: ReadonlySet<string> = new Set(liveErrorCodes);

/** A refused hub call's code ("HubException: <code>: <text>", as on /hubs/play); null for anything else. */
export function liveError(error: unknown): LiveErrorCode | null {
  const message = error instanceof Error ? error.message : String(error);
  const refusal = /HubException: ([a-z-]+):/.exec(message);
  return refusal && known.has(refusal[1]) ? (refusal[1] as LiveErrorCode) : null;
}
