import { ref, watchEffect } from "vue";

// A tiny i18n: zh-CN by default, English on a switch. Each page brings its own dictionary, so
// the phone page carries only its own words.

export type Locale = "zh-CN" | "en";

const stored = typeof localStorage !== "undefined" ? localStorage.getItem("quiz.locale") : null;
export const locale = ref<Locale>(stored === "en" ? "en" : "zh-CN");

watchEffect(() => {
  document.documentElement.lang = locale.value;
  try { localStorage.setItem("quiz.locale", locale.value); } catch { /* private mode */ }
});

export function toggleLocale() {
  locale.value = locale.value === "zh-CN" ? "en" : "zh-CN";
}

export type Params = Record<string, string | number | null | undefined>;

/** A translator over a Chinese dictionary and its English twin (the twin must have every key). */
export function translator<T extends Record<string, string>>(zh: T, en: { [K in keyof T]: string }) {
  return (key: keyof T, params?: Params): string => {
    let text: string = (locale.value === "en" ? en[key] : zh[key]) ?? String(key);
    if (params) for (const [name, value] of Object.entries(params)) text = text.split(`{${name}}`).join(String(value ?? "—"));
    return text;
  };
}

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return value.toLocaleString(locale.value, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatPercent(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const percent = value * 100;
  // A county's first few players are a tiny share of its base: show them rather than 0.000%.
  if (percent > 0 && percent < 10 ** -digits) return `${percent.toPrecision(2)}%`;
  return `${percent.toFixed(digits)}%`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  const seconds = Math.round(ms / 100) / 10;
  if (seconds < 60) return locale.value === "en" ? `${seconds}s` : `${seconds}秒`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return locale.value === "en" ? `${m}m ${s}s` : `${m}分${s}秒`;
}
