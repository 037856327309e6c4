import { ref } from "vue";
import type { HubConnection } from "@microsoft/signalr";
import type { UnitsChanged } from "../shared/types";

// /hubs/dashboard pushes UnitsChanged({ campaignId }) at most about once a second; the page
// refetches what it shows. The push may drop the last change of a burst, so a second fetch
// follows shortly after; while the push link is down, a slow poll keeps the numbers moving.

export const liveConnected = ref(false);

export function watchUnits(campaignId: () => string | null, refresh: () => Promise<void>) {
  let running = false, again = false;
  let trailing: ReturnType<typeof setTimeout> | undefined;

  async function run() {
    if (running) { again = true; return; }
    running = true;
    try { await refresh(); } finally {
      running = false;
      if (again) { again = false; void run(); }
    }
  }

  const poll = setInterval(() => { if (!liveConnected.value) void run(); }, 30_000);
  // SignalR's client loads after sign-in, with the first watch, not on the login screen.
  let connection: HubConnection | null = null, stopped = false;
  void import("@microsoft/signalr").then(({ HubConnectionBuilder, LogLevel }) => {
    if (stopped) return;
    connection = new HubConnectionBuilder()
      .withUrl("/hubs/dashboard")
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => Math.min(30_000, 1000 * 2 ** ctx.previousRetryCount) })
      .configureLogging(LogLevel.Warning)
      .build();
    connection.on("UnitsChanged", (change: UnitsChanged) => {
      if (change.campaignId !== campaignId()) return;
      void run();
      clearTimeout(trailing);
      trailing = setTimeout(run, 1500);
    });
    connection.onreconnecting(() => { liveConnected.value = false; });
    connection.onreconnected(() => { liveConnected.value = true; void run(); });
    connection.onclose(() => { liveConnected.value = false; });
    connection.start().then(() => { liveConnected.value = true; }, () => { liveConnected.value = false; });
  }, () => { liveConnected.value = false; });

  return () => {
    stopped = true;
    clearInterval(poll);
    clearTimeout(trailing);
    void connection?.stop();
  };
}
