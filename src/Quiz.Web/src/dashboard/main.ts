import { createApp, defineAsyncComponent } from "vue";
import "../shared/base.css";
import "./dashboard.css";
import App from "./App.vue";

// /dashboard/poster is a unit's printable poster; it brings the QR library only there.
const poster = /^\/dashboard\/poster\/?$/.test(location.pathname);
createApp(poster ? defineAsyncComponent(() => import("./UnitPoster.vue")) : App).mount("#app");
