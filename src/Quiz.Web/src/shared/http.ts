// Fetch with JSON and problem details. Pages signed in with the cookie send the antiforgery
// token on every request that changes something.

export class HttpError extends Error {
  constructor(public readonly status: number, message: string, public readonly body: unknown) {
    super(message);
  }
}

let antiforgery: { token: string; headerName: string } | null = null;
let antiforgeryEnabled = false;

/** The dashboard and the admin console sign in with the cookie, so their changes need the antiforgery token. */
export function enableAntiforgery() {
  antiforgeryEnabled = true;
}

/** Forget the antiforgery token: it is tied to the signed-in user, so fetch a new one after login or logout. */
export function resetAntiforgery() {
  antiforgery = null;
}

async function antiforgeryHeaders(): Promise<Record<string, string>> {
  if (!antiforgery) {
    const response = await fetch("/api/accounts/antiforgery", { credentials: "same-origin" });
    if (!response.ok) return {};
    antiforgery = await response.json();
  }
  return antiforgery ? { [antiforgery.headerName]: antiforgery.token } : {};
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  bearer?: string | null;
  signal?: AbortSignal;
}

async function send(url: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? (options.body === undefined ? "GET" : "POST");
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.bearer) headers.Authorization = `Bearer ${options.bearer}`;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (typeof options.body === "string") {
    body = options.body;
    headers["Content-Type"] = "application/json";
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  if (antiforgeryEnabled && method !== "GET" && !options.bearer) Object.assign(headers, await antiforgeryHeaders());
  return fetch(url, { method, headers, body, credentials: "same-origin", signal: options.signal });
}

function problemMessage(body: any, status: number): string {
  if (body && typeof body === "object") {
    if (body.errors && typeof body.errors === "object" && !Array.isArray(body.errors))
      return Object.entries(body.errors).map(([field, messages]) => `${field}: ${(messages as string[]).join(" ")}`).join("; ");
    if (Array.isArray(body.errors) && body.errors.length && typeof body.errors[0] === "string") return body.errors.join("; ");
    if (body.detail) return body.detail;
    if (body.title) return body.title;
  }
  return `HTTP ${status}`;
}

/** JSON in, JSON out; a non-2xx answer throws an HttpError carrying the parsed body. */
export async function http<T>(url: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(url, options);
  const text = await response.text();
  let body: any = null;
  if (text) {
    try { body = JSON.parse(text); } catch { body = text; }
  }
  if (!response.ok) throw new HttpError(response.status, problemMessage(body, response.status), body);
  return body as T;
}

/** Downloads a file the server makes (export, template) with the same credentials as http(). */
export async function download(url: string, fallbackName: string): Promise<void> {
  const response = await send(url);
  if (!response.ok) throw new HttpError(response.status, `HTTP ${response.status}`, null);
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1] ?? match[2]) : fallbackName;
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}
