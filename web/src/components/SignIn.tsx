import { Alert, Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Api, ApiError, type Tokens } from "../api";
import { LanguagePicker } from "./LanguagePicker";

export function SignIn({ api, onSignedIn }: { api: Api; onSignedIn: (tokens: Tokens) => void }) {
  const { t } = useTranslation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // An invited member's first sign-in: Cognito's session for the new-password step.
  const [session, setSession] = useState<string | null>(null);
  const [newPassword, setNewPassword] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const tokens = session
        ? await api.newPassword(email.trim(), session, newPassword)
        : await api.login(email.trim(), password);
      // The REST API and the WebSocket both take the ID token as the bearer.
      onSignedIn(tokens);
    } catch (caught) {
      const code = caught instanceof ApiError ? caught.code : "network";
      if (caught instanceof ApiError && code === "password_change_required"
        && typeof caught.body.session === "string") {
        setSession(caught.body.session);
        setError(null);
        return;
      }
      setError(t(`signIn.errors.${code}`, { defaultValue: t("signIn.errors.generic") }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center h="100vh" bg="gray.1">
      <Paper component="form" onSubmit={submit} w={380} p="xl" shadow="md" withBorder>
        <Stack>
          <Title order={2}>{t("signIn.title")}</Title>
          <TextInput label={t("signIn.email")} type="email" autoComplete="username" required
            autoFocus value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <PasswordInput label={t("signIn.password")} autoComplete="current-password" required
            value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
          {session && (
            <>
              <Alert color="blue">{t("signIn.choosePassword")}</Alert>
              <PasswordInput label={t("signIn.newPassword")} autoComplete="new-password"
                required minLength={12} autoFocus value={newPassword}
                onChange={(e) => setNewPassword(e.currentTarget.value)} />
            </>
          )}
          {error && <Alert color="red" role="alert">{error}</Alert>}
          <Button type="submit" loading={busy}>{t("signIn.submit")}</Button>
          <LanguagePicker />
        </Stack>
      </Paper>
    </Center>
  );
}
