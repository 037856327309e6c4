import { createApp, defineAsyncComponent } from "vue";
import "../shared/base.css";
import "./play.css";
import App from "./App.vue";
import { router, followViews } from "./history";

// /live (a phone in a live session) and /live/host (the projector) are served with this page and
// load their own code only there (docs/live.md, section 4); everything else is the quiz.
const path = location.pathname.replace(/\/$/, "");
if (path === "/live/host") createApp(defineAsyncComponent(() => import("../live/LiveHost.vue"))).mount("#app");
else if (path === "/live") createApp(defineAsyncComponent(() => import("../live/LivePhone.vue"))).mount("#app");
else {
  followViews();
  createApp(App).use(router).mount("#app");
}
