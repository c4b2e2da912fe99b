// Sessions and events: the API's list for the carried view (range, filters, segment, cohort)
// with search and paging, their totals, a properties tab (which properties the events or
// sessions carried, and each one's values), the events chart, and on the sessions page the
// weekly traffic heatmap; and one visitor's profile.
import { barChart, bucketLabel, PALETTE } from "./charts.js";
import * as format from "./format.js";
import { mix, timezone, viewState } from "./view.js";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const PAGE_SIZE = 20;
const place = (row) => [row.city, row.country && format.name("country", row.country)].filter(Boolean).join(", ");

export function activityList(websiteId, kind) {
  return mix(viewState(), {
    websiteId,
    search: "",
    page: 1,
    tab: "activity",
    result: null,
    stats: null,
    weekly: null,
    properties: null,
    property: null,
    values: null,
    error: "",
    days: DAYS,
    init() {
      this.readUrl();
      this.loadSegments();
      this.load();
    },
    get(path, extra) {
      return katsuo.api("GET", `/api/websites/${websiteId}${path}?${this.params(extra)}`);
    },
    async load() {
      await this.loadFirstDate();
      this.writeUrl();
      if (!this.checkView()) {
        this.result = this.stats = this.weekly = null;
        return;
      }
      const extra = { page: this.page, pageSize: PAGE_SIZE, search: this.search };
      try {
        [this.result, this.stats] = await Promise.all([this.get(`/${kind}`, extra), this.get(`/${kind}/stats`)]);
        if (kind === "sessions") this.weekly = await this.get("/sessions/weekly");
        if (kind === "events") await this.loadSeries();
        if (this.tab === "properties") await this.loadProperties();
        this.error = "";
      } catch (error) {
        // Nothing stale stays on screen under an error.
        this.result = this.stats = null;
        this.error = error.message;
      }
    },
    get rows() {
      return (this.result?.data || []).map((row) => ({
        ...row,
        place: place(row),
        browserName: format.name("browser", row.browser), osName: format.name("os", row.os), deviceName: format.name("device", row.device),
        when: format.dateTime(row.lastAt || row.createdAt),
        what: row.eventType === 2 ? row.eventName : row.urlPath,
      }));
    },
    get count() { return format.number(this.result?.count ?? 0); },
    get countText() {
      const n = this.result?.count ?? 0;
      const noun = kind === "sessions" ? (n === 1 ? "visitor" : "visitors") : (n === 1 ? "page view or event" : "page views and events");
      return `${format.number(n)} ${noun} in this period`;
    },
    get pages() { return this.result ? Math.max(1, Math.ceil(this.result.count / PAGE_SIZE)) : 1; },
    go(delta) { this.page += delta; this.load(); },

    // --- totals -----------------------------------------------------------------------------------
    get totals() {
      const s = this.stats?.data || this.stats || {};
      const value = (key) => format.number(s[key]?.value ?? s[key] ?? 0);
      // Unlike the overview's cards (page views only), these count visits that only sent events.
      const cards = kind === "sessions"
        ? [["visitors", "Visitors", "Including those who only sent events"], ["visits", "Visits", "Including visits with only events"], ["pageviews", "Views and events", "Pages viewed and events sent"], ["countries", "Countries", ""]]
        : [["events", "Events", "Custom events sent, not page views"], ["uniqueEvents", "Unique events", "Different event names"], ["visitors", "Visitors", "Who sent an event"], ["visits", "Visits", "With an event"]];
      return cards.map(([key, name, hint]) => ({ key, name, hint, value: value(key) }));
    },

    // --- events over time, one stacked colour per event name, in the server's buckets ------------
    async loadSeries() {
      const chart = await this.get("/chart");
      const series = await this.get("/events/series", { unit: chart.unit, limit: 8 });
      const names = [...new Set(series.map((p) => p.x))];
      const datasets = names.map((name, i) => {
        const counts = {};
        for (const p of series) if (p.x === name) counts[p.t] = +p.y;
        return { label: name, data: chart.buckets.map((b) => counts[b.t] || 0), backgroundColor: PALETTE[i % PALETTE.length], borderRadius: 3 };
      });
      barChart(this.$refs.eventChart, chart.buckets.map((b) => bucketLabel(b.t, chart.unit)), datasets, { stacked: true });
    },

    // --- weekly heatmap: sessions by weekday and hour (the browser's time zone) -------------------
    get heat() {
      const grid = this.weekly || [];
      const max = Math.max(1, ...grid.flat());
      return grid.map((hours, day) => ({ day: DAYS[day], cells: hours.map((count, hour) => ({ hour, count, alpha: count ? 0.15 + (count / max) * 0.85 : 0 })) }));
    },

    // --- properties -------------------------------------------------------------------------------
    async showTab(tab) {
      this.tab = tab;
      if (tab === "properties" && this.properties === null) await this.loadProperties();
    },
    async loadProperties() {
      this.properties = await this.get(kind === "events" ? "/event-data/properties" : "/session-data/properties");
      if (this.property) await this.loadValues(this.property);
    },
    async loadValues(property) {
      this.property = property;
      const extra = { propertyName: property.propertyName };
      if (kind === "events") extra.event = property.eventName;
      try {
        this.values = await this.get(kind === "events" ? "/event-data/values" : "/session-data/values", extra);
      } catch (error) {
        this.values = [];
        this.error = error.message;
      }
    },
    get valueRows() {
      const rows = this.values || [];
      const total = rows.reduce((sum, row) => sum + +row.total, 0) || 1;
      return rows.map((row) => ({ label: String(row.value ?? "(none)"), count: format.number(row.total), share: (+row.total / total) * 100 }));
    },
    isProperty(p) { return this.property && this.property.propertyName === p.propertyName && this.property.eventName === p.eventName; },
  });
}

/** One visitor: their session, what they did visit by visit, and the properties they carried. */
export function visitorProfile(websiteId, sessionId) {
  return {
    session: null,
    activity: [],
    properties: [],
    tab: "activity",
    error: "",
    async init() {
      const base = `/api/websites/${websiteId}/sessions/${sessionId}`;
      // The whole history: from the first visit the session records to now.
      try {
        this.session = await katsuo.api("GET", base);
        const start = new Date(this.session.firstAt).getTime() - 1000;
        const params = new URLSearchParams({ startAt: start, endAt: Date.now(), timezone });
        [this.activity, this.properties] = await Promise.all([
          katsuo.api("GET", `${base}/activity?${params}`), katsuo.api("GET", `${base}/properties`),
        ]);
      } catch (error) {
        this.error = error.message;
      }
    },
    get facts() {
      const s = this.session;
      if (!s) return [];
      return [
        ["Country", place(s) || "—"], ["Browser", format.name("browser", s.browser)],
        ["OS", format.name("os", s.os)], ["Device", format.name("device", s.device)], ["Screen", s.screen],
        ["Language", s.language ? format.name("language", s.language) : "—"], ["Distinct ID", s.distinctId || "—"],
        ["First seen", format.dateTime(s.firstAt)], ["Last seen", format.dateTime(s.lastAt)],
        ["Visits", format.number(s.visits)], ["Views", format.number(s.views)], ["Events", format.number(s.events)],
      ];
    },
    /** The activity, newest first, grouped by visit. */
    get visits() {
      const groups = [];
      for (const item of this.activity) {
        let group = groups.find((g) => g.id === item.visitId);
        if (!group) groups.push((group = { id: item.visitId, items: [] }));
        group.items.push({ ...item, time: format.time(item.createdAt), date: format.date(item.createdAt),
          what: item.eventType === 2 ? item.eventName : item.urlPath + (item.urlQuery ? `?${item.urlQuery}` : "") });
      }
      return groups;
    },
    propertyValue(p) {
      return p.stringValue ?? p.numberValue ?? p.dateValue ?? p.value ?? "";
    },
  };
}
