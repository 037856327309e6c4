import { watch } from "vue";
import { createRouter, createWebHistory, type RouteLocationNormalized } from "vue-router";
import { session, type View } from "./session";

// The browser's back and forward step through the quiz's screens. `session.view` stays the one
// truth the panels read; the router only mirrors it into the address (/play/<screen>) and turns
// back/forward into a change of view. Web history, not hash: the server sends index.html for
// /play/* (MapPages), so a reload or a shared deep link opens the same screen.

const screens = ["rules", "round", "result", "boards", "share", "invite"] as const;
type Screen = (typeof screens)[number];

// The router needs a component per route; the screens themselves are chosen by App.vue.
const Empty = { render: () => null };

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/", component: Empty },
    { path: `/play/:screen(${screens.join("|")})`, component: Empty },
    // Anything else under /play (an old or mistyped link) lands on the first screen.
    { path: "/play/:rest(.*)*", redirect: to => ({ path: "/", query: to.query }) },
  ],
});

const isScreen = (value: unknown): value is Screen => screens.includes(value as Screen);

function screenOf(route: RouteLocationNormalized): Screen | null {
  return isScreen(route.params.screen) ? route.params.screen : null;
}

const pathOf = (view: View) => (isScreen(view) ? `/play/${view}` : "/");

/** A round whose result is not in yet: the only one the player can go back into. */
const roundOpen = () => !!session.round && !session.result;

/** Whether the screen can be shown now: a signed-in player, and the round or result it needs. */
function available(screen: Screen): boolean {
  if (!session.participant) return false;
  if (screen === "round") return roundOpen();
  if (screen === "result") return !!session.result;
  return true;
}

// A screen the page cannot show (a result gone with a reload, a round finished meanwhile) goes to
// the first screen instead of an empty one; the address follows.
router.beforeEach(to => {
  const screen = screenOf(to);
  if (!screen || session.view === "loading" || available(screen)) return true;
  return { path: "/", query: to.query, replace: true };
});

// Back and forward (and links): the address changed first, the view follows.
router.afterEach((to, _from, failure) => {
  if (failure || session.view === "loading") return;
  const wanted: View = screenOf(to) ?? (session.participant ? "home" : "register");
  if (wanted === session.view) return;
  session.error = null;
  session.notice = null;
  session.view = wanted;
});

let settled = false;
let booted = false;

/** Mirrors the view into the address; call once, after the router is installed. */
export function followViews() {
  watch(() => session.view, follow);
}

/** Called when the page has loaded what it can (the hub's round included): a deep link to a round that did not come back gives way. */
export function bootFinished() {
  booted = true;
  void follow(session.view, "loading");
}

async function follow(view: View, before: View) {
  if (view === "loading") return;
  await router.isReady();
  const route = router.currentRoute.value;
  const target = pathOf(view);
  if (!settled) {
    // The first screen after loading: a deep link (a reload) asks for its screen when the page can
    // show it. A round comes back only once the hub is connected and resumes it: until then the
    // address waits rather than being replaced (which would leave a dead entry behind).
    const wanted = screenOf(route);
    if (view === "home" && wanted === "round" && !booted) return;
    settled = true;
    if (view === "home" && wanted && wanted !== "round" && available(wanted)) {
      session.view = wanted;
      return;
    }
    if (route.path !== target) await router.replace({ path: target, query: route.query });
    return;
  }
  if (route.path === target) return;
  // A finished round gives way to its result, a new round to an old result, and signing in or
  // out changes the first screen: back should not return to what can no longer be shown.
  const replace = (before === "round" && view === "result") || (before === "result" && view === "round")
    || view === "register" || before === "register";
  // The page's own "back to home" steps back when home is the entry before, so the history does not grow.
  const back: unknown = window.history.state?.back;
  if (target === "/" && !replace && typeof back === "string" && back.split("?")[0] === "/") {
    router.back();
    return;
  }
  const location = { path: target, query: route.query };
  await (replace ? router.replace(location) : router.push(location));
}
