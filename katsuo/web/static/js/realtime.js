// The realtime page: the last 30 minutes, refreshed every few seconds, under the filters the
// website's other screens carry (the date range does not apply here).
import { barChart, bucketLabel, css, drawWorldMap } from "./charts.js";
import * as format from "./format.js";
import { mix, timezone, viewState } from "./view.js";

const REFRESH_MS = 5000;
const MINUTE = 60000;
const ranked = (counts) =>
  Object.entries(counts || {}).map(([x, y]) => ({ x, y: +y })).sort((a, b) => b.y - a.y).slice(0, 10);

export function realtime(websiteId, mapUrls) {
  return mix(viewState(), {
    websiteId,
    data: null,
    error: "",
    updated: "",
    chartTable: [],
    init() {
      this.readUrl();
      this.loadSegments();
      this.load();
      setInterval(() => this.refresh(), REFRESH_MS);
    },
    get(path, extra) {
      return katsuo.api("GET", `/api/websites/${websiteId}${path}?${this.params(extra)}`);
    },
    load() {
      this.writeUrl();
      return this.refresh();
    },
    /** The realtime answer and its per-minute chart, under the carried filters. */
    async refresh() {
      const filters = this.filterParams(new URLSearchParams({ timezone }));
      if (this.segment) filters.set("segment", this.segment);
      if (this.cohort) filters.set("cohort", this.cohort);
      try {
        const now = Date.now();
        const start = Math.floor(now / MINUTE) * MINUTE - 30 * MINUTE;
        const [data, chart] = await Promise.all([
          katsuo.api("GET", `/api/realtime/${websiteId}?${filters}`),
          this.get("/chart", { startAt: start, endAt: now, unit: "minute" }),
        ]);
        this.data = data;
        this.error = "";
        this.updated = format.time(now);
        this.drawChart(chart);
        const counts = Object.fromEntries(Object.entries(data.countries || {}).map(([code, n]) => [code.toUpperCase(), +n]));
        await drawWorldMap(this.$refs.map, mapUrls, counts, null);
      } catch (error) {
        this.error = error.message;
      }
    },
    drawChart(chart) {
      const labels = chart.buckets.map((b) => bucketLabel(b.t, chart.unit));
      barChart(this.$refs.chart, labels, [
        { label: "Visitors", data: chart.buckets.map((b) => b.visitors), backgroundColor: css("--primary"), borderRadius: 3, order: 1 },
        { label: "Views", data: chart.buckets.map((b) => b.views), backgroundColor: css("--primary-soft"), borderColor: css("--primary"), borderWidth: 1, borderRadius: 3, order: 2 },
      ]);
      this.chartTable = chart.buckets.map((b, i) => ({ label: labels[i], visitors: format.number(b.visitors), views: format.number(b.views) }));
    },
    get totals() {
      const t = this.data?.totals || {};
      return [["views", "Views"], ["visitors", "Visitors"], ["events", "Events"], ["countries", "Countries"]]
        .map(([key, name]) => ({ key, name, value: format.number(t[key] ?? 0) }));
    },
    get urls() { return ranked(this.data?.urls); },
    get referrers() { return ranked(this.data?.referrers); },
    get countries() {
      return ranked(this.data?.countries).map((row) => ({ ...row, x: format.name("country", row.x) }));
    },
    get events() {
      return (this.data?.events || []).slice(0, 50).map((e) => ({
        ...e,
        time: format.time(e.createdAt),
        what: e.__type === "session" ? "A new visitor arrived" : e.__type === "pageview" ? `Viewed ${e.urlPath}` : `Triggered ${e.eventName}`,
        where: [["country", e.country], ["browser", e.browser], ["os", e.os], ["device", e.device]]
          .filter(([, value]) => value).map(([field, value]) => format.name(field, value)).join(" · "),
      }));
    },
  });
}
