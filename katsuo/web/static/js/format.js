// Names, numbers and dates as a person reads them. The names (filter fields, operators, browsers,
// systems, devices, channels, countries) come from the server with the page (#katsuo-lists), so
// the pages and the API's filters agree on them; numbers and dates follow the browser's locale.
// Every date a screen shows goes through here, server-rendered ones included (<time> elements,
// js/times.js), so all screens write dates the same way.
const lists = JSON.parse(document.getElementById("katsuo-lists")?.textContent || "{}");

export const FIELDS = lists.fields || [];
export const OPERATORS = lists.operators || [];
export const COHORT_RANGES = lists.cohortRanges || [];
// The metric tables' groups of tabs and the metrics' names (analytics/registry.py).
export const METRIC_GROUPS = lists.metricGroups || [];
const METRICS = Object.fromEntries(lists.metrics || []);
export const metricLabel = (key) => METRICS[key] || key;
const NAMES = lists.names || {};

const languageNames = new Intl.DisplayNames(undefined, { type: "language" });
const numberFormat = new Intl.NumberFormat();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

const country = (code) => NAMES.country?.[String(code).toUpperCase()] || String(code);

/** What a stored value of `field` reads as: name("browser", "ios") → "iOS Safari". */
export function name(field, value, countryCode) {
  if (value === null || value === undefined || value === "") return "(none)";
  const text = String(value);
  if (field === "country") return country(text);
  if (field === "region") {
    // Stored as "GB-ENG": the subdivision's code within its country, then the country's name.
    const [code, part] = text.includes("-") ? text.split(/-(.*)/s) : [countryCode, text];
    return code ? `${part}, ${country(code)}` : text;
  }
  if (field === "city" && countryCode) return `${text}, ${country(countryCode)}`;
  if (field === "language") {
    try {
      return languageNames.of(text) || text;
    } catch (_) {
      return text;
    }
  }
  return NAMES[field]?.[text] ?? text;
}

/** The stored code a shown name stands for (the inverse of `name`), or the text unchanged. */
export function codeOf(field, text) {
  const wanted = String(text).trim().toLowerCase();
  for (const [code, shown] of Object.entries(NAMES[field] || {})) {
    if (shown.toLowerCase() === wanted) return code;
  }
  return text;
}

export const fieldLabel = (key) => (FIELDS.find(([k]) => k === key) || [key, key])[1];
export const operatorLabel = (key) => (OPERATORS.find(([k]) => k === key) || [key, key])[1];

export const number = (n) => numberFormat.format(+n || 0);
export const date = (d) => dateFormat.format(new Date(d));
export const dateTime = (d) => dateTimeFormat.format(new Date(d));
export const time = (d) => timeFormat.format(new Date(d));

/** A bucket of the server ("YYYY-MM-DD HH:MI:SS" wall-clock time, or its UTC "…T…Z" form). */
export function bucketDate(t) {
  const [y, m, d, hh, mi] = String(t).split(/[-T :Z]/).map(Number);
  return new Date(y, m - 1, d, hh || 0, mi || 0);
}

/** A bucket's label on an axis or in a chart's table. */
export function bucketLabel(t, unit) {
  const d = bucketDate(t);
  if (unit === "minute" || unit === "hour") return d.toLocaleTimeString(undefined, { hour: "numeric", minute: unit === "minute" ? "2-digit" : undefined });
  if (unit === "day") return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  if (unit === "month") return d.toLocaleDateString(undefined, { month: "short", year: "numeric" });
  return String(d.getFullYear());
}

const pad = (n) => String(n).padStart(2, "0");
/** An instant as the server names a bucket in this browser's time zone ("YYYY-MM-DD HH:MI:SS"). */
export function wallClock(instant) {
  const d = new Date(instant);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A short day ("Dec 5"), e.g. a row of a retention table. */
export const day = (d) => bucketLabel(d, "day");

export function duration(seconds) {
  seconds = Math.round(seconds || 0);
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m ? `${m}m ${s}s` : `${s}s`;
}
