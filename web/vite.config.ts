import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` talks to the local stack (`make dev`) for the API, the WebSocket and config.json.
const stack = process.env.INBOX_STACK_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 900 },
  server: {
    proxy: {
      "/api": stack,
      "/config.json": stack,
      "/ws": { target: stack.replace(/^http/, "ws"), ws: true },
    },
  },
});
