// The search box: modes as the API offers them, hits with highlighted snippets,
// the page, and a link into the document view at the hit's place in the text.
import { call } from "./api.js";
import { $, clear, el, say } from "./dom.js";

function snippet(text, highlights) {
  const chars = Array.from(text);
  const parts = [];
  let at = 0;
  for (const h of [...highlights].sort((a, b) => a.start - b.start)) {
    if (h.start < at || h.end > chars.length) continue;
    parts.push(chars.slice(at, h.start).join(""), el("mark", {}, chars.slice(h.start, h.end).join("")));
    at = h.end;
  }
  parts.push(chars.slice(at).join(""));
  return parts;
}

export function initSearch(onOpenHit) {
  const state = $("search-state");
  const more = $("search-more");
  let query = null;
  let skip = 0;
  const run = async (append) => {
    const mode = $("search-mode").value;
    say(state, "Searching…", "muted");
    try {
      let page;
      if (mode === "vector") {
        page = await call("POST", "search/vector", { text: query, skip, top: 10 });
      } else {
        const params = new URLSearchParams({ q: query, top: "10", skip: String(skip) });
        if (mode) params.set("mode", mode);
        page = await call("GET", `search?${params}`);
      }
      const list = $("hits");
      if (!append) clear(list);
      for (const hit of page.items) list.append(render(hit, onOpenHit));
      const shown = list.children.length;
      say(state, shown ? `${shown} hits (${page.mode})` : "No hits.", "muted");
      more.hidden = !page.next && !page.next_skip;
      skip += page.items.length;
    } catch (error) {
      say(state, `Search refused: ${error.code} (${error.detail})`, "bad");
    }
  };
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    query = $("search-input").value.trim();
    skip = 0;
    if (query) run(false);
  });
  more.addEventListener("click", () => run(true));
}

function render(hit, onOpenHit) {
  const name = hit.filename || hit.document_id;
  const open = el("a", { href: `#doc=${hit.document_id}&at=${hit.text_span.start}-${hit.text_span.end}` },
    name);
  open.addEventListener("click", (event) => {
    event.preventDefault();
    onOpenHit(hit.document_id, hit.text_span);
  });
  const where = [hit.page ? `page ${hit.page}` : null, hit.heading].filter(Boolean).join(" · ");
  return el(
    "li",
    { "data-testid": "search-hit", "data-document": hit.document_id },
    el("div", {}, open, where ? el("span", { class: "muted" }, ` — ${where}`) : null),
    el("p", {}, snippet(hit.snippet, hit.highlights || [])),
  );
}
