// What a website's screens are looking at: a date range, unit, comparison, filters, segment or
// cohort, kept in the URL so a link reproduces the view and every tab of the website carries it.
// `viewState()` is mixed into the screens' Alpine components (see `mix`); it expects the
// component to provide `get(path, params)` (the API for this website) and `load()`.
import * as format from "./format.js";

export const RANGES = [
  ["24h", "Last 24 hours"], ["today", "Today"], ["yesterday", "Yesterday"], ["week", "This week"],
  ["7d", "Last 7 days"], ["month", "This month"], ["30d", "Last 30 days"], ["90d", "Last 90 days"],
  ["year", "This year"], ["12m", "Last 12 months"], ["all", "All time"], ["custom", "Custom range"],
];
export const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const DAY = 86400000;
const pad = (n) => String(n).padStart(2, "0");
const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
const endOfDay = (d) => new Date(startOfDay(d).getTime() + DAY - 1);
const isoDay = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const FILTER = /^(eq|neq|c|dnc|re|nre)\.(.*)$/s;

/** The [start, end, unit] of a preset range, in the browser's time zone (the server may choose
 *  a coarser unit; its chart answer says which). */
export function presetRange(key, now = new Date()) {
  const today = startOfDay(now);
  const daysBack = (n) => { const s = new Date(today); s.setDate(s.getDate() - n); return s; };
  switch (key) {
    case "24h": return [new Date(now.getTime() - DAY), now, "hour"];
    case "today": return [today, endOfDay(now), "hour"];
    case "yesterday": { const y = new Date(today.getTime() - 1); return [startOfDay(y), endOfDay(y), "hour"]; }
    case "week": { const s = daysBack(today.getDay()); const e = new Date(s); e.setDate(e.getDate() + 6); return [s, endOfDay(e), "day"]; }
    case "month": return [new Date(now.getFullYear(), now.getMonth(), 1), new Date(now.getFullYear(), now.getMonth() + 1, 1, 0, 0, 0, -1), "day"];
    case "30d": return [daysBack(29), endOfDay(now), "day"];
    case "90d": return [daysBack(89), endOfDay(now), "day"];
    case "year": return [new Date(now.getFullYear(), 0, 1), new Date(now.getFullYear() + 1, 0, 1, 0, 0, 0, -1), "month"];
    case "12m": return [new Date(now.getFullYear(), now.getMonth() - 11, 1), new Date(now.getFullYear(), now.getMonth() + 1, 1, 0, 0, 0, -1), "month"];
    default: return [daysBack(6), endOfDay(now), "day"];
  }
}

/** One object from several, getters kept (a spread would freeze them into values). */
export function mix(...parts) {
  const out = {};
  for (const part of parts) Object.defineProperties(out, Object.getOwnPropertyDescriptors(part));
  return out;
}

const autoUnit = (start, end) => { const days = (end - start) / DAY; return days <= 2 ? "hour" : days <= 400 ? "day" : "month"; };

export function viewState() {
  return {
    fields: format.FIELDS,
    operators: format.OPERATORS,
    ranges: RANGES,
    range: "7d",
    customStart: "",
    customEnd: "",
    unit: "",
    compare: "",
    filters: [],
    segment: "",
    cohort: "",
    segments: [],
    cohorts: [],
    draft: { name: "path", operator: "eq", value: "" },
    suggestions: [],
    firstDate: undefined,
    rangeError: "",
    // The website's retention limit in days (0: none), given by the overview's config.
    retentionDays: 0,

    // --- state <-> URL -------------------------------------------------------------------------
    readUrl() {
      const params = new URLSearchParams(location.search);
      this.range = params.get("range") || "7d";
      this.customStart = params.get("start") || "";
      this.customEnd = params.get("end") || "";
      this.unit = params.get("unit") || "";
      this.compare = params.get("compare") || "";
      this.segment = params.get("segment") || "";
      this.cohort = params.get("cohort") || "";
      const keys = new Set(format.FIELDS.map(([key]) => key));
      this.filters = [];
      for (const [key, raw] of params) {
        const name = key.replace(/\d+$/, "");
        if (!keys.has(name)) continue;
        const match = FILTER.exec(raw);
        this.filters.push(match ? { name, operator: match[1], value: match[2] } : { name, operator: "eq", value: raw });
      }
    },
    /** The view as query parameters: the page's own URL, and every website tab's link. */
    viewParams() {
      const params = new URLSearchParams();
      params.set("range", this.range);
      if (this.range === "custom") { params.set("start", this.customStart); params.set("end", this.customEnd); }
      if (this.unit) params.set("unit", this.unit);
      if (this.compare) params.set("compare", this.compare);
      if (this.segment) params.set("segment", this.segment);
      if (this.cohort) params.set("cohort", this.cohort);
      return this.filterParams(params);
    },
    writeUrl() {
      const params = this.viewParams();
      history.replaceState(null, "", `${location.pathname}?${params}`);
      for (const link of document.querySelectorAll("a[data-keep-query]")) link.search = `?${params}`;
    },
    filterParams(params) {
      const seen = {};
      for (const f of this.filters) {
        const n = seen[f.name] = (seen[f.name] ?? -1) + 1;
        params.set(n ? `${f.name}${n}` : f.name, `${f.operator}.${f.value}`);
      }
      return params;
    },

    // --- the query every panel sends -----------------------------------------------------------
    get window() {
      if (this.range === "custom" && this.customStart && this.customEnd) {
        const [ys, ms, ds] = this.customStart.split("-").map(Number);
        const [ye, me, de] = this.customEnd.split("-").map(Number);
        const start = new Date(ys, ms - 1, ds), end = endOfDay(new Date(ye, me - 1, de));
        return { start, end, unit: this.unit || autoUnit(start, end) };
      }
      if (this.range === "all") {
        const end = new Date(), start = startOfDay(this.firstDate || end);
        return { start, end, unit: this.unit || autoUnit(start, end) };
      }
      const [start, end, unit] = presetRange(this.range);
      return { start, end, unit: this.unit || unit };
    },
    params(extra = {}) {
      const { start, end, unit } = this.window;
      const params = new URLSearchParams({ startAt: start.getTime(), endAt: end.getTime(), unit, timezone });
      this.filterParams(params);
      if (this.segment) params.set("segment", this.segment);
      if (this.cohort) params.set("cohort", this.cohort);
      for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== "") params.set(k, v);
      return params;
    },
    /** Whether the view can be asked for; otherwise `rangeError` says why, in plain words. */
    checkView() {
      const { start, end } = this.window;
      this.rangeError = this.range === "custom" && !(start <= end) ? "The end date is before the start date." : "";
      return !this.rangeError;
    },
    /** A plain-word notice when the range starts before the oldest data retention keeps. */
    get retentionNotice() {
      if (!this.retentionDays) return "";
      const kept = Date.now() - this.retentionDays * DAY;
      return this.window.start.getTime() < kept
        ? `Data older than ${this.retentionDays} days is deleted (retention), so this range starts before the oldest data kept.`
        : "";
    },
    /** When the website's data begins, for "All time" (asked only then). */
    async loadFirstDate() {
      if (this.range !== "all" || this.firstDate !== undefined) return;
      try {
        const { startDate } = await this.get("/daterange");
        this.firstDate = startDate ? new Date(startDate) : null;
      } catch (_) {
        this.firstDate = null;
      }
    },
    async loadSegments() {
      try {
        const [segments, cohorts] = await Promise.all([
          katsuo.api("GET", `/api/websites/${this.websiteId}/segments?type=segment`),
          katsuo.api("GET", `/api/websites/${this.websiteId}/segments?type=cohort`),
        ]);
        this.segments = segments.data;
        this.cohorts = cohorts.data;
      } catch (_) {
        this.segments = [];
        this.cohorts = [];
      }
    },

    // --- the filter bar ------------------------------------------------------------------------
    fieldLabel: format.fieldLabel,
    operatorLabel: format.operatorLabel,
    /** A filter's value as the chips show it ("United States" for country US). */
    valueLabel(f) {
      return f.operator === "eq" || f.operator === "neq"
        ? f.value.split(",").map((v) => format.name(f.name, v)).join(", ") : f.value;
    },
    /** Values the chosen field took in this range, offered while typing a filter's value. */
    async suggest() {
      const field = this.draft.name;
      try {
        const rows = await this.get("/values", { type: field, search: this.draft.value || "" });
        // Offered by the names people read; a chosen name is turned back into its value.
        if (field === this.draft.name) {
          this.suggestions = rows.map((row) => String(row.value ?? "")).filter(Boolean).slice(0, 50)
            .map((value) => ({ value, label: format.name(field, value) }));
        }
      } catch (_) {
        this.suggestions = [];
      }
    },
    addFilter() {
      if (!this.draft.value) return;
      const picked = this.suggestions.find((s) => s.label === this.draft.value);
      const value = picked ? picked.value : format.codeOf(this.draft.name, this.draft.value);
      this.filters.push({ ...this.draft, value });
      this.draft = { name: this.draft.name, operator: "eq", value: "" };
      this.$refs.filterDialog?.close();
      this.load();
    },
    addFilterOf(field, value) {
      if (!field || value === null || value === undefined || value === "") return;
      this.filters.push({ name: field, operator: "eq", value: String(value) });
      this.load();
    },
    removeFilter(index) {
      this.filters.splice(index, 1);
      this.load();
    },
    clearFilters() {
      this.filters = [];
      this.segment = "";
      this.cohort = "";
      this.load();
    },
    rangeLabel() {
      const { start, end } = this.window;
      if (!(start <= end)) return "";
      return `${format.date(start)} – ${format.date(end)}`;
    },
    setRange(key) {
      this.range = key;
      if (key === "custom" && !this.customStart) {
        const [s, e] = presetRange("7d");
        this.customStart = isoDay(s);
        this.customEnd = isoDay(e);
      }
      this.load();
    },
  };
}
