// The document view: the text with its entities marked by type (a toggle per type),
// summary, keywords, metadata, pages, warnings, timings and the JSON download.
import { call } from "./api.js";
import { $, clear, el, when } from "./dom.js";

// Offsets in results count code points (Python strings); JavaScript strings count
// UTF-16 units, so the text is sliced as an array of code points.
function marked(text, entities, focus) {
  const chars = Array.from(text);
  const spans = entities
    .filter((e) => e.start >= 0 && e.end <= chars.length && e.start < e.end)
    .map((e) => ({ ...e, kind: "entity" }));
  if (focus) spans.push({ start: focus.start, end: focus.end, kind: "hit" });
  spans.sort((a, b) => a.start - b.start || (a.kind === "hit" ? -1 : 1));
  const types = [...new Set(entities.map((e) => e.type))].sort();
  const parts = [];
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue; // overlaps the previous mark: shown unmarked
    if (span.start > at) parts.push(chars.slice(at, span.start).join(""));
    const piece = chars.slice(span.start, span.end).join("");
    if (span.kind === "hit") {
      parts.push(el("mark", { class: "hit", id: "hit-mark", tabindex: "-1" }, piece));
    } else {
      const index = types.indexOf(span.type) % 9;
      parts.push(
        el("mark", { class: `entity t${index}`, "data-testid": "entity", "data-type": span.type,
          title: span.type }, piece),
      );
    }
    at = span.end;
  }
  if (at < chars.length) parts.push(chars.slice(at).join(""));
  return { parts, types };
}

function section(title, ...content) {
  return el("section", {}, el("h3", {}, title), ...content);
}

function definitions(entries) {
  const list = el("dl", { class: "meta" });
  for (const [name, value] of entries) {
    if (value === null || value === undefined || value === "") continue;
    list.append(el("dt", {}, name), el("dd", {}, String(value)));
  }
  return list;
}

export async function showDocument(id, focus) {
  const view = $("viewer");
  view.hidden = false;
  clear(view).append(el("p", { class: "muted" }, "Loading…"));
  let doc;
  try {
    doc = await call("GET", `documents/${encodeURIComponent(id)}`);
  } catch (error) {
    clear(view).append(el("p", { class: "bad" }, `Could not open the document: ${error.code}`));
    return;
  }
  const name = doc.filename || doc.id;
  const header = [
    el("h2", {}, name),
    definitions([["Status", doc.status], ["Type", doc.content_type], ["Size", doc.size_bytes],
      ["Created", when(doc.created_at)], ["Error", doc.error && `${doc.error.code}: ${doc.error.message}`]]),
  ];
  if (doc.status !== "completed") {
    clear(view).append(...header, el("p", { class: "muted" }, "No result yet."));
    return;
  }
  let result;
  try {
    result = await call("GET", `documents/${encodeURIComponent(id)}/result`);
  } catch (error) {
    clear(view).append(...header, el("p", { class: "bad" }, `No result: ${error.code}`));
    return;
  }
  const { parts, types } = marked(result.text, result.entities || [], focus);
  const text = el("div", { class: "text", "aria-label": "Document text" }, parts);
  const toggles = el("fieldset", { class: "toggles" }, el("legend", {}, "Entity types"));
  for (const type of types) {
    const count = result.entities.filter((e) => e.type === type).length;
    const box = el("input", { type: "checkbox", id: `toggle-${type}`, checked: true,
      "data-toggle": type });
    box.addEventListener("change", () => {
      for (const mark of text.querySelectorAll("mark.entity")) {
        if (mark.dataset.type === type) mark.classList.toggle("off", !box.checked);
      }
    });
    toggles.append(el("label", { for: `toggle-${type}` }, box, ` ${type} (${count})`));
  }
  const download = el("button", { type: "button" }, "Download JSON");
  download.addEventListener("click", () => {
    const blob = new Blob([JSON.stringify(result, null, 2)], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(blob), download: `${doc.id}.json` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
  const meta = result.metadata || {};
  clear(view).append(
    ...header,
    download,
    section("Summary", el("p", {}, (result.summary && result.summary.text) || "—")),
    section("Keywords", el("p", {}, (result.keywords || []).map((k) => k.text).join(", ") || "—")),
    section("Text", types.length ? toggles : el("p", { class: "muted" }, "No entities found."), text),
    section("Metadata", definitions(Object.entries(meta))),
    section("Pages", el("p", {}, (result.pages || []).map(
      (p) => `page ${p.number}: ${p.start}–${p.end}`).join("; ") || "—")),
    section("Warnings", el("ul", {}, (result.warnings || []).map(
      (w) => el("li", {}, `${w.code}: ${w.message}`)))),
    section("Timings (ms)", definitions(Object.entries(result.timings_ms || {}))),
  );
  const hit = view.querySelector("#hit-mark");
  (hit || view).scrollIntoView({ block: "center" });
  (hit || view).focus({ preventScroll: true });
}
