// Calls to the API with the user's credentials; problems come back as ApiError.

const BASE = "/api";
const store = window.sessionStorage;

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(`${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function credentials() {
  return { token: store.getItem("docflow.token") || "", key: store.getItem("docflow.key") || "" };
}

export function setCredentials({ token, key }) {
  for (const [name, value] of [["docflow.token", token], ["docflow.key", key]]) {
    if (value) store.setItem(name, value);
    else store.removeItem(name);
  }
}

export function authHeaders() {
  const { token, key } = credentials();
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (key) headers["x-functions-key"] = key;
  return headers;
}

async function problemOf(response) {
  let code = `http_${response.status}`;
  let detail = response.statusText || "request failed";
  try {
    const body = await response.json();
    code = body.code || code;
    detail = body.detail || detail;
  } catch {
    // not a problem document: keep the status
  }
  return new ApiError(response.status, code, detail);
}

export async function call(method, path, body) {
  const headers = authHeaders();
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path.startsWith("/") ? path : `${BASE}/${path}`, init);
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return null;
  return response.json();
}

// The operations this deployment serves, from its OpenAPI description (which the
// app's tests keep equal to its routes): "DELETE /documents/{id}" and the like.
// Asking the spec, not probing each route, keeps 404s out of the browser's console.
let operations = null;

export function operationsServed() {
  operations ??= fetch(`${BASE}/openapi.yaml`)
    .then((response) => (response.ok ? response.text() : ""))
    .then((spec) => {
      const found = new Set();
      let path = null;
      for (const line of spec.split("\n")) {
        const pathLine = /^ {2}(\/\S*):\s*$/.exec(line);
        if (pathLine) path = pathLine[1];
        else if (/^ {0,2}\S/.test(line)) path = null;
        const method = /^ {4}(get|post|put|patch|delete):\s*$/.exec(line);
        if (path && method) found.add(`${method[1].toUpperCase()} ${path}`);
      }
      return found;
    })
    .catch(() => new Set());
  return operations;
}

export async function serves(operation) {
  return (await operationsServed()).has(operation);
}

// An upload with progress events (fetch has none): resolves to the document record.
export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${BASE}/documents?filename=${encodeURIComponent(file.name)}`);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 202 && body) resolve(body);
      else {
        const code = (body && body.code) || `http_${xhr.status}`;
        reject(new ApiError(xhr.status, code, (body && body.detail) || "upload refused"));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network_error", "no answer")));
    xhr.send(file);
  });
}
