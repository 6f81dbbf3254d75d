// Credentials for the API: a bearer token (AUTH_MODE=jwt) and/or a function key (Azure),
// kept for this tab only. The local host's development issuer, when it runs, mints a token.
import { credentials, routeExists, setCredentials } from "./api.js";
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
  routeExists("POST", DEV_TOKEN).then((exists) => {
    dev.hidden = !exists;
  });
  dev.addEventListener("click", async () => {
    const response = await fetch(DEV_TOKEN, { method: "POST" });
    if (!response.ok) {
      say(state, `Development token refused (HTTP ${response.status}).`, "bad");
      return;
    }
    const body = await response.json();
    $("signin-token").value = body.access_token || body.token || "";
    form.requestSubmit();
  });
}
