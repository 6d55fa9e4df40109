// Runtime settings come from /config.json, written by the local stack or by `make deploy-web`,
// so one build serves every stack.

export interface RuntimeConfig {
  api_base: string;
  ws_url: string;
}

export async function loadConfig(): Promise<RuntimeConfig> {
  const fallback: RuntimeConfig = { api_base: "", ws_url: defaultWsUrl() };
  try {
    const answer = await fetch("/config.json", { cache: "no-store" });
    if (!answer.ok) return fallback;
    const read = (await answer.json()) as Partial<RuntimeConfig>;
    return { api_base: read.api_base ?? "", ws_url: read.ws_url || fallback.ws_url };
  } catch {
    return fallback;
  }
}

function defaultWsUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws`;
}
