// Webhooks: register, list (URLs shown without their query or credentials), rotate the
// signing secret, delete, and each one's deliveries with redeliver.
import { call } from "./api.js";
import { $, clear, el, say, when } from "./dom.js";

export function redact(url) {
  try {
    const parsed = new URL(url);
    const query = parsed.search ? "?…" : "";
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${query}`;
  } catch {
    return "(unreadable URL)";
  }
}

export function initWebhooks() {
  const state = $("webhook-state");
  const refresh = async () => {
    try {
      const page = await call("GET", "subscriptions?limit=200");
      const body = clear($("webhooks"));
      if (page.items.length === 0) {
        body.append(el("tr", {}, el("td", { colspan: "4", class: "muted" }, "No webhooks.")));
      }
      for (const sub of page.items) body.append(row(sub));
    } catch (error) {
      say(state, `Could not list webhooks: ${error.code}`, "bad");
    }
  };
  const action = (label, handler) => {
    const button = el("button", { type: "button" }, label);
    button.addEventListener("click", handler);
    return button;
  };
  const row = (sub) => {
    const shown = redact(sub.url);
    return el(
      "tr",
      { "data-testid": "webhook-row", "data-id": sub.id },
      el("td", {}, shown),
      el("td", {}, sub.status, sub.disabled_reason ? ` (${sub.disabled_reason})` : ""),
      el("td", {}, when(sub.created_at)),
      el(
        "td",
        {},
        action("Deliveries", () => deliveries(sub, shown)),
        action("Rotate secret", async () => {
          try {
            const rotated = await call("POST", `subscriptions/${sub.id}/rotate-secret`);
            say(state, `New signing secret (shown once): ${rotated.secret}`, "good");
          } catch (error) {
            say(state, `Rotate refused: ${error.code} (${error.detail})`, "bad");
          }
        }),
        action("Delete", async () => {
          if (!window.confirm(`Delete the webhook to ${shown}?`)) return;
          try {
            await call("DELETE", `subscriptions/${sub.id}`);
            say(state, `Deleted the webhook to ${shown}.`, "good");
          } catch (error) {
            say(state, `Delete refused: ${error.code} (${error.detail})`, "bad");
          }
          refresh();
        }),
      ),
    );
  };
  const deliveries = async (sub, shown) => {
    $("deliveries").hidden = false;
    $("deliveries-title").textContent = `Deliveries to ${shown}`;
    const body = clear($("delivery-rows"));
    try {
      const page = await call("GET", `subscriptions/${sub.id}/deliveries?limit=50`);
      if (page.items.length === 0) {
        body.append(el("tr", {}, el("td", { colspan: "7", class: "muted" }, "No deliveries yet.")));
      }
      for (const attempt of page.items) {
        body.append(
          el(
            "tr",
            {},
            el("td", {}, when(attempt.attempted_at)),
            el("td", {}, attempt.event_type),
            el("td", {}, attempt.attempt),
            el("td", {}, attempt.outcome, attempt.error ? ` (${attempt.error})` : ""),
            el("td", {}, attempt.status_code ?? "—"),
            el("td", {}, when(attempt.next_attempt_at) || "—"),
            el(
              "td",
              {},
              action("Redeliver", async () => {
                try {
                  await call("POST", `deliveries/${encodeURIComponent(attempt.delivery_id)}/redeliver`);
                  say(state, "Redelivery queued.", "good");
                } catch (error) {
                  say(state, `Redeliver refused: ${error.code} (${error.detail})`, "bad");
                }
              }),
            ),
          ),
        );
      }
    } catch (error) {
      say(state, `Could not list deliveries: ${error.code}`, "bad");
    }
  };
  $("webhook-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await call("POST", "subscriptions", { url: $("webhook-url").value.trim() });
      say(state, `Registered. Signing secret (shown once): ${created.secret}`, "good");
      $("webhook-url").value = "";
    } catch (error) {
      say(state, `Registration refused: ${error.code} (${error.detail})`, "bad");
    }
    refresh();
  });
  return refresh;
}
