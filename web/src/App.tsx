import { useCallback, useMemo, useState } from "react";
import { Api, type Tokens } from "./api";
import { Inbox } from "./components/Inbox";
import { SignIn } from "./components/SignIn";
import type { RuntimeConfig } from "./config";

const SESSION = "inbox.session";

/** The bearer token (the ID token) and the refresh token that renews it when it expires. */
interface Session {
  token: string;
  refresh_token: string | null;
}

function readSession(): Session | null {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(SESSION) ?? "null");
    return typeof saved?.token === "string" ? saved : null;
  } catch {
    return null;
  }
}

export function App({ config }: { config: RuntimeConfig }) {
  // Per tab: a second window may sign in as another member.
  const [session, setSession] = useState<Session | null>(readSession);

  const keep = useCallback((next: Session | null) => {
    if (next) window.sessionStorage.setItem(SESSION, JSON.stringify(next));
    else window.sessionStorage.removeItem(SESSION);
    setSession(next);
  }, []);
  const signOut = useCallback(() => keep(null), [keep]);
  const signIn = useCallback((tokens: Tokens) => keep({
    token: tokens.id_token || tokens.access_token,
    refresh_token: tokens.refresh_token ?? null,
  }), [keep]);

  const refreshToken = session?.refresh_token ?? null;
  const signedIn = session !== null;
  // One Api per sign-in, not per token: a renewed token changes inside it, so the inbox
  // keeps its state; the session keeps the new token for a reload.
  const api = useMemo(
    () => new Api(config.api_base, readSession()?.token ?? null, signOut, refreshToken,
      (token) => keep({ token, refresh_token: refreshToken })),
    [config, signedIn, refreshToken, signOut, keep],
  );

  if (!session) return <SignIn api={api} onSignedIn={signIn} />;
  return <Inbox api={api} token={session.token} wsUrl={config.ws_url} onSignOut={signOut} />;
}
