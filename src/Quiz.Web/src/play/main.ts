import { createApp } from "vue";
import "../shared/base.css";
import "./play.css";
import App from "./App.vue";
import { router, followViews } from "./history";

followViews();
createApp(App).use(router).mount("#app");
