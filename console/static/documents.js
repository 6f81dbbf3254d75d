// The live document list: polled with backoff (fast while something is in flight,
// slower when nothing changes, slower still after errors), paged, filtered by status.
import { call, serves } from "./api.js";
import { $, bytes, clear, el, say, when } from "./dom.js";

const FAST_MS = 1000;
const SLOW_MS = 30000;

export class DocumentList {
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.after = null; // the cursor of the page shown (null: the first page)
    this.next = null;
    this.delay = FAST_MS;
    this.timer = null;
    this.signature = "";
    this.canDelete = false;
    this.firstListed = null;
    $("status-filter").addEventListener("change", () => this.goto(null));
    $("refresh").addEventListener("click", () => this.poke());
    $("page-first").addEventListener("click", () => this.goto(null));
    $("page-next").addEventListener("click", () => this.goto(this.next));
    serves("DELETE /documents/{id}").then((exists) => {
      this.canDelete = exists;
      for (const button of document.querySelectorAll("[data-action=delete]")) {
        button.hidden = !exists;
      }
    });
  }

  goto(after) {
    this.after = after;
    this.poke();
  }

  // Refresh now and poll fast again (after an upload, a filter change, a click).
  poke() {
    this.delay = FAST_MS;
    this.schedule(0);
  }

  schedule(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), ms);
  }

  async load() {
    const params = new URLSearchParams({ limit: "20" });
    const status = $("status-filter").value;
    if (status) params.set("status", status);
    if (this.after) params.set("after", this.after);
    try {
      const page = await call("GET", `documents?${params}`);
      this.render(page);
      const busy = page.items.some((d) => d.status === "queued" || d.status === "processing");
      const signature = JSON.stringify(page.items.map((d) => [d.id, d.status]));
      const changed = signature !== this.signature;
      this.signature = signature;
      this.delay = busy || changed ? FAST_MS : Math.min(this.delay * 2, SLOW_MS);
      say($("list-state"), `Updated ${new Date().toLocaleTimeString()}`, "muted");
    } catch (error) {
      this.delay = Math.min(Math.max(this.delay, FAST_MS) * 2, SLOW_MS);
      say($("list-state"), `Could not list documents: ${error.code} (retrying)`, "bad");
    }
    this.schedule(this.delay);
  }

  render(page) {
    const body = clear($("documents"));
    if (page.items.length === 0) {
      body.append(el("tr", {}, el("td", { colspan: "6", class: "muted" }, "No documents yet.")));
    }
    for (const doc of page.items) body.append(this.row(doc));
    this.next = page.next ? new URL(page.next, location.href).searchParams.get("after") : null;
    $("page-next").disabled = !this.next;
    $("page-first").disabled = !this.after;
    if (this.firstListed === null) {
      this.firstListed = performance.now();
      document.documentElement.dataset.firstListMs = String(Math.round(this.firstListed));
    }
  }

  row(doc) {
    const name = doc.filename || doc.id;
    const open = el("button", { type: "button", class: "link", "data-action": "open" }, name);
    open.addEventListener("click", () => this.onOpen(doc.id));
    const remove = el(
      "button",
      { type: "button", "data-action": "delete", hidden: !this.canDelete,
        "aria-label": `Delete ${name}` },
      "Delete",
    );
    remove.addEventListener("click", () => this.remove(doc, name));
    return el(
      "tr",
      { "data-testid": "document-row", "data-status": doc.status, "data-id": doc.id },
      el("td", {}, open),
      el("td", { class: `status status-${doc.status}` }, doc.status),
      el("td", {}, bytes(doc.size_bytes)),
      el("td", {}, when(doc.created_at)),
      el("td", { class: "bad" }, doc.error ? doc.error.code : ""),
      el("td", {}, remove),
    );
  }

  async remove(doc, name) {
    if (!window.confirm(`Delete ${name}? Its file, result and index entries go for good.`)) return;
    try {
      await call("DELETE", `documents/${encodeURIComponent(doc.id)}`);
      say($("list-state"), `Deleted ${name}.`, "good");
    } catch (error) {
      say($("list-state"), `Delete refused: ${error.code} (${error.detail})`, "bad");
    }
    this.poke();
  }
}
