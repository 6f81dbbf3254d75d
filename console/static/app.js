// The console's entry point: tabs, and the modules wired together.
import { DocumentList } from "./documents.js";
import { initSearch } from "./search.js";
import { initSignin } from "./signin.js";
import { initUpload } from "./upload.js";
import { showDocument } from "./viewer.js";
import { initWebhooks } from "./webhooks.js";

const refreshWebhooks = initWebhooks();

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll(".panel")) {
    panel.hidden = panel.id !== `panel-${name}`;
  }
  if (name === "webhooks") refreshWebhooks();
}

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => showTab(tab.dataset.tab));
}

function open(id, focus) {
  showTab("documents");
  const at = focus ? `&at=${focus.start}-${focus.end}` : "";
  history.replaceState(null, "", `#doc=${encodeURIComponent(id)}${at}`);
  showDocument(id, focus);
}

const list = new DocumentList((id) => open(id));
initUpload(() => list.poke());
initSearch((id, span) => open(id, span));
initSignin(() => list.poke());
list.poke();

// A link such as #doc=<id>&at=<start>-<end> opens that document at that place.
const linked = new URLSearchParams(location.hash.slice(1));
if (linked.get("doc")) {
  const [start, end] = (linked.get("at") || "").split("-").map(Number);
  open(linked.get("doc"), Number.isFinite(start) && Number.isFinite(end) ? { start, end } : null);
}
