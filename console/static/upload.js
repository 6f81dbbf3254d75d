// Upload by file picker or drop (several at once, each with its progress and its
// coded error when refused), and the URL box when the app can scrape.
import { call, serves, upload } from "./api.js";
import { $, el, say } from "./dom.js";

export function initUpload(onAccepted) {
  const input = $("upload-input");
  const drop = $("drop");
  const list = $("uploads");
  const send = (files) => {
    for (const file of files) {
      const bar = el("progress", { max: "1", value: "0", "aria-label": `Upload of ${file.name}` });
      const state = el("span", { role: "status" }, "sending");
      const item = el("li", { "data-testid": "upload-item" }, el("span", {}, file.name), bar, state);
      list.prepend(item);
      upload(file, (fraction) => {
        bar.value = fraction;
      }).then(
        (record) => {
          bar.value = 1;
          say(state, `accepted (${record.status})`, "good");
          onAccepted(record);
        },
        (error) => {
          say(state, `refused: ${error.code} (${error.detail})`, "bad");
          item.dataset.error = error.code;
        },
      );
    }
  };
  input.addEventListener("change", () => {
    send([...input.files]);
    input.value = "";
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    send([...event.dataTransfer.files]);
  });
  initScrape(onAccepted);
}

function initScrape(onAccepted) {
  const form = $("scrape-form");
  const state = $("scrape-state");
  serves("POST /scrape").then((exists) => {
    form.hidden = !exists;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(state, "fetching");
    try {
      const record = await call("POST", "scrape", { url: $("scrape-url").value.trim() });
      say(state, `accepted (${record.status})`, "good");
      onAccepted(record);
    } catch (error) {
      say(state, `refused: ${error.code} (${error.detail})`, "bad");
    }
  });
}
