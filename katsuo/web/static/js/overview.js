// The website overview: stat cards, the chart, metric tables, the world map and the expanded
// view of a table, each asking the JSON API for its numbers so the page paints at once and every
// number shown is what the API answers. Used logged in, on share URLs and for links and pixels.
import { websiteApi } from "./api.js";
import { barChart, bucketLabel, css, drawWorldMap } from "./charts.js";
import * as format from "./format.js";
import { mix, viewState } from "./view.js";

// Metric tables, grouped as tabs of [type, name, the filter a click on a row adds, what its numbers
// count]: from the server (analytics/registry.py), with the page's lists.
export const METRIC_GROUPS = format.METRIC_GROUPS;
const UNIT_NAMES = { minute: "Minutes", hour: "Hours", day: "Days", month: "Months", year: "Years" };

export function dashboard(config) {
  const api = websiteApi(config.websiteId, config.share || null);
  // The chart's answer under way, kept out of Alpine's state (a Promise behind its reactive
  // proxy cannot be awaited): the metric tables' comparison waits for its window.
  let pendingChart = null;

  return mix(viewState(), {
    websiteId: config.websiteId,
    share: config.share || null,
    retentionDays: config.retentionDays || 0,
    shareGone: false,
    groups: METRIC_GROUPS,
    units: ["hour", "day", "month"],
    unitNames: UNIT_NAMES,
    active: null,
    stats: null,
    statsError: "",
    seriesError: "",
    loadingSeries: true,
    chartTable: [],
    metrics: {},
    tabs: Object.fromEntries(METRIC_GROUPS.map((g) => [g.id, g.tabs[0][0]])),
    mapUrls: config.map || null,
    mapCountries: 0,
    mapTable: [],
    expanded: null,

    async init() {
      this.readUrl();
      if (this.share) {
        const live = await api.resolveShare();
        this.shareGone = !live;
        if (!live) return;
        // The overview is always shown; the events table only when the share publishes events.
        this.groups = METRIC_GROUPS.filter((group) => group.id !== "events" || api.state.published.events === true);
      } else if (config.segments) {
        this.loadSegments();
      }
      this.load();
      this.loadActive();
      setInterval(() => this.loadActive(), 30000);
      window.addEventListener("katsuo:theme", () => this.load());
    },

    get(path, extra) {
      return api.get(path, this.params(extra)).catch((error) => {
        this.shareGone = api.state.gone;
        throw error;
      });
    },
    get shareToken() { return api.token.get(); },
    set shareToken(value) { api.token.set(value); },

    async load() {
      await this.loadFirstDate();
      this.writeUrl();
      if (!this.checkView()) {
        // A view that cannot be asked for: nothing stale stays on screen.
        this.stats = null;
        this.metrics = {};
        barChart(this.$refs.chart, [], []);
        return;
      }
      this.loadStats();
      this.loadSeries();
      for (const group of this.groups) this.loadMetric(this.tabs[group.id]);
      this.loadMap();
    },
    async loadActive() {
      try {
        const data = await api.get("/active");
        this.active = data.visitors ?? null;
      } catch (_) {
        this.active = null;
      }
    },
    async loadStats() {
      this.statsError = "";
      try {
        this.stats = await this.get("/stats", { compare: this.compare || "prev" });
      } catch (error) {
        this.stats = null;
        this.statsError = error.message;
      }
    },

    // --- chart: what the server answers, every bucket, in the unit it chose ------------------
    loadSeries() {
      this.loadingSeries = true;
      this.seriesError = "";
      pendingChart = this.get("/chart", { compare: this.compare });
      return pendingChart
        .then((data) => {
          this.units = data.units;
          // A unit the range does not allow is not offered; the server chose the next one up.
          if (this.unit && !data.units.includes(this.unit)) {
            this.unit = "";
            this.writeUrl();
          }
          this.draw(data);
          return data;
        })
        .catch((error) => {
          this.seriesError = error.message;
          this.chartTable = [];
          barChart(this.$refs.chart, [], []);
          return null;
        })
        .finally(() => { this.loadingSeries = false; });
    },
    draw(data) {
      const slots = data.buckets;
      const labels = slots.map((b) => bucketLabel(b.t, data.unit));
      const datasets = [
        { label: "Visitors", data: slots.map((b) => b.visitors), backgroundColor: css("--primary"), borderRadius: 4, order: 1 },
        { label: "Views", data: slots.map((b) => b.views), backgroundColor: css("--primary-soft"), borderColor: css("--primary"), borderWidth: 1, borderRadius: 4, order: 2 },
      ];
      const before = data.compare?.buckets;
      if (before) {
        // The previous window's buckets line up with ours by position.
        const line = (key, name, color) => ({ type: "line", label: name, data: slots.map((_, i) => before[i]?.[key] ?? null), borderColor: color, borderDash: [5, 4], pointRadius: 0, borderWidth: 2, tension: 0.3, order: 0 });
        datasets.push(line("visitors", "Previous visitors", css("--muted")), line("views", "Previous views", css("--border-strong")));
      }
      barChart(this.$refs.chart, labels, datasets);
      // The same numbers as a table, for screen readers and for reading exact values.
      this.chartTable = slots.map((b, i) => ({ label: labels[i], visitors: format.number(b.visitors), views: format.number(b.views) }));
    },

    // --- metric tables --------------------------------------------------------------------------
    async loadMetric(type, more = false) {
      const current = this.metrics[type] || {};
      const limit = more ? 100 : current.limit || 10;
      this.metrics[type] = { ...current, loading: true, error: "", limit };
      try {
        const rows = await this.get("/metrics", { type, limit, search: current.search || "" });
        // Compare mode: each row's value in the server's comparison window (the chart's and the
        // cards'), for its change.
        let previous = null;
        const compared = this.compare ? (await pendingChart)?.compare : null;
        if (compared) {
          const before = await this.get("/metrics", { type, limit: 500, startAt: compared.startAt, endAt: compared.endAt });
          previous = Object.fromEntries(before.map((row) => [String(row.x), +row.y]));
        }
        this.metrics[type] = { ...this.metrics[type], rows, previous, loading: false };
      } catch (error) {
        this.metrics[type] = { ...this.metrics[type], rows: [], loading: false, error: error.message };
      }
    },
    tab(group) {
      return group.tabs.find(([type]) => type === this.tabs[group.id]);
    },
    select(group, type) {
      this.tabs[group.id] = type;
      if (!this.metrics[type]) this.loadMetric(type);
    },
    /** Arrow keys, Home and End move between a table's tabs (the tab pattern of WAI-ARIA). */
    tabKey(group, event) {
      const types = group.tabs.map(([type]) => type);
      const at = types.indexOf(this.tabs[group.id]);
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: types.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const type = types[(next + types.length) % types.length];
      // currentTarget is only set while the event is dispatched: keep the tab list for later.
      const list = event.currentTarget;
      this.select(group, type);
      this.$nextTick(() => list.querySelector(`[data-tab="${type}"]`)?.focus());
    },
    rows(type) {
      const rows = this.metrics[type]?.rows || [];
      const total = rows.reduce((sum, row) => sum + +row.y, 0) || 1;
      const previous = this.metrics[type]?.previous;
      return rows.map((row) => {
        const before = previous ? previous[String(row.x)] || 0 : null;
        const change = before === null ? null : before ? Math.round(((+row.y - before) / before) * 100) : null;
        return { ...row, label: format.name(type, row.x, row.country), share: (+row.y / total) * 100, count: format.number(row.y),
          change: previous ? (change === null ? "new" : `${change > 0 ? "+" : ""}${change}%`) : "", up: change === null || change >= 0 };
      });
    },
    filterBy(field, value) {
      this.addFilterOf(field, value);
    },

    // --- the world map: visitors by country, shaded, and the same as a table -------------------
    async loadMap() {
      const canvas = document.getElementById("world-map");
      if (!canvas || !this.mapUrls) return;
      try {
        const rows = await this.get("/metrics", { type: "country", limit: 500 });
        this.mapCountries = rows.length;
        this.mapTable = rows.map((row) => ({ name: format.name("country", row.x), visitors: format.number(row.y) }));
        const visitors = Object.fromEntries(rows.map((row) => [String(row.x).toUpperCase(), +row.y]));
        await drawWorldMap(canvas, this.mapUrls, visitors, (code) => this.filterBy("country", code));
      } catch (error) {
        this.mapCountries = 0;
        this.mapTable = [];
      }
    },

    // --- stat cards -----------------------------------------------------------------------------
    get cards() {
      const s = this.stats;
      if (!s) return [];
      const c = s.comparison || {};
      const rate = (x) => (x.visits ? (Math.min(x.visits, x.bounces) / x.visits) * 100 : 0);
      const avg = (x) => (x.visits ? x.totaltime / x.visits : 0);
      return [
        { key: "visitors", label: format.metricLabel("visitors"), value: +s.visitors, prev: +c.visitors, text: format.number(s.visitors) },
        { key: "visits", label: format.metricLabel("visits"), value: +s.visits, prev: +c.visits, text: format.number(s.visits) },
        { key: "pageviews", label: format.metricLabel("pageviews"), value: +s.pageviews, prev: +c.pageviews, text: format.number(s.pageviews) },
        { key: "bounce", label: "Bounce rate", value: rate(s), prev: rate(c), text: `${Math.round(rate(s))}%`, inverse: true },
        { key: "duration", label: "Visit duration", value: avg(s), prev: avg(c), text: format.duration(avg(s)) },
      ].map((card) => {
        const change = card.prev ? ((card.value - card.prev) / card.prev) * 100 : null;
        const good = change === null ? null : card.inverse ? change < 0 : change > 0;
        return { ...card, change: change === null ? "" : `${change > 0 ? "+" : ""}${Math.round(change)}%`, good };
      });
    },

    // --- the expanded view of one metric table --------------------------------------------------
    openExpanded(group) {
      const [type, name, field] = this.tab(group);
      this.expanded = { type, name, field, rows: [], search: "", loading: true, error: "" };
      this.$refs.expandedDialog.showModal();
      this.loadExpanded();
    },
    async loadExpanded() {
      const view = this.expanded;
      view.loading = true;
      view.error = "";
      try {
        view.rows = await this.get("/metrics/expanded", { type: view.type, limit: 500, search: view.search });
      } catch (error) {
        view.rows = [];
        view.error = error.message;
      } finally {
        view.loading = false;
      }
    },
    get expandedRows() {
      const view = this.expanded;
      if (!view) return [];
      return view.rows.map((row) => ({
        value: row.name,
        label: format.name(view.type, row.name, row.country),
        visitors: format.number(row.visitors),
        visits: format.number(row.visits),
        views: format.number(row.pageviews),
        bounce: row.visits ? `${Math.round((Math.min(+row.bounces, +row.visits) / +row.visits) * 100)}%` : "0%",
        duration: format.duration(row.visits ? +row.totaltime / +row.visits : 0),
      }));
    },
    filterFromExpanded(value) {
      const view = this.expanded;
      this.$refs.expandedDialog.close();
      this.filterBy(view.field, value);
    },

    async saveSegment(name) {
      if (!this.filters.length) throw new Error("Add at least one filter before saving a segment.");
      await katsuo.api("POST", `/api/websites/${this.websiteId}/segments`, {
        type: "segment",
        name,
        parameters: { filters: this.filters.map((f) => ({ name: f.name, operator: f.operator, value: f.value })) },
      });
      await this.loadSegments();
      katsuo.toast("Segment saved");
    },
  });
}
