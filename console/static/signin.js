// Credentials for the API: a bearer token (AUTH_MODE=jwt) and/or a function key (Azure),
// kept for this tab only. The local host's development issuer, when it runs, mints a token.
import { credentials, setCredentials } from "./api.js";
import { $, say } from "./dom.js";

const DEV_TOKEN = "/devhost/token";

export function initSignin(onChange) {
  const form = $("signin-form");
  const state = $("signin-state");
  const current = credentials();
  $("signin-token").value = current.token;
  $("signin-key").value = current.key;
  const describe = () => {
    const { token, key } = credentials();
    say(state, token || key ? "Credentials set for this tab." : "No credentials: local host mode.");
  };
  describe();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setCredentials({ token: $("signin-token").value.trim(), key: $("signin-key").value.trim() });
    describe();
    onChange();
  });
  const dev = $("signin-dev");
  // Only the local host (on loopback) can have the development issuer.
  if (["127.0.0.1", "localhost", "[::1]"].includes(location.hostname)) {
    fetch("/devhost/health").then((response) => {
      dev.hidden = !response.ok;
    }, () => {});
  }
  dev.addEventListener("click", async () => {
    const response = await fetch(DEV_TOKEN, { method: "POST" });
    if (!response.ok) {
      const why = response.status === 404 ? "this host has no development issuer" : "refused";
      say(state, `Development token: ${why} (HTTP ${response.status}).`, "bad");
      return;
    }
    const body = await response.json();
    $("signin-token").value = body.access_token || body.token || "";
    form.requestSubmit();
  });
}
