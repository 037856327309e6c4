import { playErrorCodeValues } from "./api.gen";
import type { PlayErrorCode } from "./types";

// A refused hub call rejects with an Error whose message ends "HubException: <code>: <text>"
// (SignalR puts its own words in front; docs/protocol.md, section 5). This is the one place that
// reads it: callers get the code as data, typed as the union of the codes the server publishes
// (PlayErrorCode in its OpenAPI document), so a check for a code the server does not have fails
// the typecheck.

export interface HubError {
  /** The refusal's code; null for anything else (the network, SignalR's own errors, a code this build does not know). */
  code: PlayErrorCode | null;
  /** The server's English text after the code (some carry ids: docs/protocol.md), else the whole message. */
  detail: string;
}

const known: ReadonlySet<string> = new Set(playErrorCodeValues);

export function hubError(error: unknown): HubError {
  const message = error instanceof Error ? error.message : String(error);
  const refusal = /HubException: ([a-z-]+):\s?([\s\S]*)$/.exec(message);
  if (refusal && known.has(refusal[1])) return { code: refusal[1] as PlayErrorCode, detail: refusal[2] };
  return { code: null, detail: message };
}
