// The live sessions' shapes (docs/live.md), generated from the server's OpenAPI document like every
// other (../shared/types.ts), the hub's pushes included. The hub's error codes are not in the
// document: they are listed here from docs/live.md, section 5.
import type { components } from "../shared/api.gen";
import type { Sent } from "../shared/types";

type Schemas = components["schemas"];

export type LivePhase = Schemas["LivePhase"];
export type LiveRoundKind = Schemas["LiveRoundKind"];
/** `Command(sessionId, action)`. */
export type LiveAction = "show" | "close" | "reveal" | "pause" | "resume" | "skip" | "end";

/** `POST /api/live/sessions` (docs/live.md, section 1). */
export type LiveSessionRequest = Schemas["CreateLiveSession"];
export type LiveSession = Sent<Schemas["LiveSessionView"]>;
/** `GET /api/live/join/{code}`. */
export type LiveJoinInfo = Sent<Schemas["LiveJoinInfo"]>;
export type LiveStanding = Sent<Schemas["LiveStanding"]>;
/** A question as the phones get it: no key. */
export type LiveQuestion = Sent<Schemas["LiveQuestion"]>;
export type LiveHostView = Sent<Schemas["LiveHostView"]>;
/** A question as the host gets it: with its key and explanation. */
export type LiveHostQuestion = NonNullable<LiveHostView["question"]>;
/** A phone's own result: in LiveJoined and in the reveal each phone gets. */
export type LiveYou = LiveJoined["you"];
export type LiveJoined = Sent<Schemas["LiveJoined"]>;
export type LiveJoinRequest = Partial<Schemas["LiveJoinRequest"]>;
export type LiveAnswerAck = Sent<Schemas["LiveAnswerAck"]>;
/** `GET /api/live/sessions/{id}/report`: a session replayed from the store. */
export type LiveReport = Sent<Schemas["LiveReport"]>;

// Pushed by the server (docs/live.md, "What the server pushes").
export type LiveAudience = Sent<Schemas["LiveAudience"]>;
export type LivePaused = Sent<Schemas["LivePaused"]>;
export type LiveClosed = Sent<Schemas["LiveClosed"]>;
export type LiveReveal = Sent<Schemas["LiveReveal"]>;
export type LiveEnded = Sent<Schemas["LiveEnded"]>;
export type LiveAnswered = Sent<Schemas["LiveAnswered"]>;

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
