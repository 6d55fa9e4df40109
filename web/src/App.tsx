import { useCallback, useMemo, useState } from "react";
import { Api } from "./api";
import { Inbox } from "./components/Inbox";
import { SignIn } from "./components/SignIn";
import type { RuntimeConfig } from "./config";

const TOKEN = "inbox.token";

export function App({ config }: { config: RuntimeConfig }) {
  // Per tab: a second window may sign in as another member.
  const [token, setToken] = useState<string | null>(() => window.sessionStorage.getItem(TOKEN));

  const signOut = useCallback(() => {
    window.sessionStorage.removeItem(TOKEN);
    setToken(null);
  }, []);
  const signIn = useCallback((value: string) => {
    window.sessionStorage.setItem(TOKEN, value);
    setToken(value);
  }, []);
  const api = useMemo(() => new Api(config.api_base, token, signOut), [config, token, signOut]);

  if (!token) return <SignIn api={api} onSignedIn={signIn} />;
  return <Inbox api={api} token={token} wsUrl={config.ws_url} onSignOut={signOut} />;
}
