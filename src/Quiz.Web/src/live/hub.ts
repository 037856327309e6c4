import type { HubConnection } from "@microsoft/signalr";

// One connection to /hubs/live, for the phone page and the projector alike. It reconnects by
// itself, quickly at first and then for ever; after each reconnect (and after a fresh start when
// the automatic reconnect gave up) `onBack` restores the caller's place (Join with the rejoin key,
// or Host), since the server keeps no connection's group across a new connection.

export type Link = "connecting" | "connected" | "reconnecting";

const retryDelays = [0, 1000, 2000, 3000, 5000];

export interface LiveHubOptions {
  /**
   * The session's 6-digit code, sent as `?room=` (docs/live.md, section 2): a balancer in front of
   * several nodes sends every connection of one room to the same node by it.
   */
  room?: string | null;
  /** The participant token, for a phone that joins as its registered participant. */
  token?: () => string | null;
  link: (state: Link) => void;
  onBack: (connection: HubConnection) => Promise<void>;
}

export async function openLiveHub(options: LiveHubOptions): Promise<HubConnection> {
  const { HubConnectionBuilder, LogLevel } = await import("@microsoft/signalr");
  const token = options.token;
  const connection = new HubConnectionBuilder()
    .withUrl(options.room ? `/hubs/live?room=${encodeURIComponent(options.room)}` : "/hubs/live", token ? { accessTokenFactory: () => token() ?? "" } : {})
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => retryDelays[ctx.previousRetryCount] ?? 5000 })
    .configureLogging(LogLevel.Warning)
    .build();
  connection.onreconnecting(() => options.link("reconnecting"));
  connection.onreconnected(async () => {
    options.link("connected");
    await options.onBack(connection);
  });
  connection.onclose(() => {
    if (closing.has(connection)) return;
    options.link("reconnecting");
    setTimeout(() => void start(connection, options, true), 3000);
  });
  await start(connection, options, false);
  return connection;
}

/** Connections their page closed on purpose: not to be started again. */
const closing = new WeakSet<HubConnection>();

export function closeLiveHub(connection: HubConnection | null) {
  if (!connection) return;
  closing.add(connection);
  void connection.stop();
}

async function start(connection: HubConnection, options: LiveHubOptions, resuming: boolean) {
  options.link(resuming ? "reconnecting" : "connecting");
  for (let attempt = 0; !closing.has(connection); attempt++) {
    try {
      await connection.start();
      options.link("connected");
      if (resuming) await options.onBack(connection);
      return;
    } catch {
      await new Promise(r => setTimeout(r, retryDelays[Math.min(attempt + 1, retryDelays.length - 1)]));
    }
  }
}
