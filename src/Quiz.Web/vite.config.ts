import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";
import { fileURLToPath } from "node:url";

// One entry per audience: the phone page (index.html, served at /), the unit dashboard and the
// admin console. The output goes straight into the server's wwwroot, which the server serves.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [vue()],
  base: "/",
  build: {
    outDir: here("../Quiz.Server/wwwroot"),
    emptyOutDir: true,
    target: "es2019", // WeChat's in-app browser on older Android phones
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      input: {
        index: here("index.html"),
        dashboard: here("dashboard.html"),
        admin: here("admin.html"),
      },
      output: {
        // Vite's default names, assets/[name]-[hash].[ext], are a contract: the server caches the
        // files so named for a year (src/Quiz.Server/Hosting/Pages.cs).
        // Shared libraries under their own names, so a look at the output says what each page loads.
        manualChunks(id: string) {
          if (id.includes("node_modules/@microsoft/signalr")) return "signalr";
          if (id.includes("node_modules/@vue/") || id.includes("node_modules/vue/")) return "vue";
          if (id.includes("node_modules/echarts") || id.includes("node_modules/zrender")) return "echarts";
          return undefined;
        },
      },
    },
  },
  server: {
    // npm run dev: the pages on Vite, the API and hubs on the .NET server.
    proxy: {
      "/api": "http://localhost:5000",
      "/hubs": { target: "http://localhost:5000", ws: true },
    },
  },
});
