// The website dashboard: one state (date range, unit, comparison, filters, segment or cohort)
// kept in the URL, and panels that each ask the JSON API for their numbers, so the page paints at
// once and every number shown is exactly what the API answers. Used logged in and on share URLs.
import * as format from "./js/format.js";

(() => {
  const FILTER_FIELDS = format.FIELDS;
  const OPERATORS = format.OPERATORS;
  // Metric tables, grouped as tabs; the second item is the filter a click on a row adds.
  const METRIC_GROUPS = [
    { id: "pages", tabs: [["path", "Pages", "path"], ["entry", "Entry", "path"], ["exit", "Exit", "path"], ["title", "Titles", "title"], ["query", "Query", "query"]] },
    { id: "sources", tabs: [["referrer", "Referrers", "referrer"], ["channel", "Channels", null], ["hostname", "Hostnames", "hostname"], ["tag", "Tags", "tag"]] },
    { id: "environment", tabs: [["browser", "Browsers", "browser"], ["os", "OS", "os"], ["device", "Devices", "device"], ["screen", "Screens", null]] },
    { id: "location", tabs: [["country", "Countries", "country"], ["region", "Regions", "region"], ["city", "Cities", "city"], ["language", "Languages", "language"]] },
    { id: "events", tabs: [["event", "Events", "event"]] },
  ];
  const RANGES = [
    ["24h", "Last 24 hours"], ["today", "Today"], ["yesterday", "Yesterday"], ["week", "This week"],
    ["7d", "Last 7 days"], ["month", "This month"], ["30d", "Last 30 days"], ["90d", "Last 90 days"],
    ["year", "This year"], ["12m", "Last 12 months"], ["all", "All time"], ["custom", "Custom range"],
  ];
  const FILTER_KEYS = new Set(FILTER_FIELDS.map(([key]) => key));
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const number = { format: format.number };

  const DAY = 86400000;
  const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const endOfDay = (d) => new Date(startOfDay(d).getTime() + DAY - 1);

  /** The [start, end] dates of a preset range, in the browser's time zone. */
  function presetRange(key, now = new Date()) {
    const today = startOfDay(now);
    switch (key) {
      case "24h": return [new Date(now.getTime() - DAY), now, "hour"];
      case "today": return [today, endOfDay(now), "hour"];
      case "yesterday": { const y = new Date(today.getTime() - 1); return [startOfDay(y), endOfDay(y), "hour"]; }
      case "week": { const s = new Date(today); s.setDate(s.getDate() - s.getDay()); const e = new Date(s); e.setDate(e.getDate() + 6); return [s, endOfDay(e), "day"]; }
      case "month": return [new Date(now.getFullYear(), now.getMonth(), 1), new Date(now.getFullYear(), now.getMonth() + 1, 1, 0, 0, 0, -1), "day"];
      case "30d": { const s = new Date(today); s.setDate(s.getDate() - 29); return [s, endOfDay(now), "day"]; }
      case "90d": { const s = new Date(today); s.setDate(s.getDate() - 89); return [s, endOfDay(now), "day"]; }
      case "year": return [new Date(now.getFullYear(), 0, 1), new Date(now.getFullYear() + 1, 0, 1, 0, 0, 0, -1), "month"];
      case "12m": return [new Date(now.getFullYear(), now.getMonth() - 11, 1), new Date(now.getFullYear(), now.getMonth() + 1, 1, 0, 0, 0, -1), "month"];
      default: { const s = new Date(today); s.setDate(s.getDate() - 6); return [s, endOfDay(now), "day"]; }
    }
  }

  const pad = (n) => String(n).padStart(2, "0");
  /** A bucket's key as the API labels it in a named time zone: "YYYY-MM-DD HH:MI:00". */
  function bucketKey(d, unit) {
    const y = d.getFullYear(), m = pad(d.getMonth() + 1), day = pad(d.getDate());
    if (unit === "year") return `${y}-01-01 00:00:00`;
    if (unit === "month") return `${y}-${m}-01 00:00:00`;
    if (unit === "day") return `${y}-${m}-${day} 00:00:00`;
    if (unit === "hour") return `${y}-${m}-${day} ${pad(d.getHours())}:00:00`;
    return `${y}-${m}-${day} ${pad(d.getHours())}:${pad(d.getMinutes())}:00`;
  }
  const normalizeBucket = (x) => String(x).replace("T", " ").replace("Z", "").slice(0, 19);

  function step(d, unit) {
    const n = new Date(d);
    if (unit === "year") n.setFullYear(n.getFullYear() + 1);
    else if (unit === "month") n.setMonth(n.getMonth() + 1);
    else if (unit === "day") n.setDate(n.getDate() + 1);
    else if (unit === "hour") n.setHours(n.getHours() + 1);
    else n.setMinutes(n.getMinutes() + 1);
    return n;
  }

  function truncate(d, unit) {
    const n = new Date(d);
    if (unit === "minute") n.setSeconds(0, 0);
    else if (unit === "hour") n.setMinutes(0, 0, 0);
    else { n.setHours(0, 0, 0, 0); if (unit === "month" || unit === "year") n.setDate(1); if (unit === "year") n.setMonth(0); }
    return n;
  }

  /** Every bucket of the range (the API returns only those with data). */
  function buckets(start, end, unit) {
    const out = [];
    for (let d = truncate(start, unit); d <= end && out.length < 1000; d = step(d, unit)) out.push(new Date(d));
    return out;
  }

  function label(d, unit) {
    if (unit === "minute" || unit === "hour") return d.toLocaleTimeString(undefined, { hour: "numeric", minute: unit === "minute" ? "2-digit" : undefined });
    if (unit === "day") return d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
    if (unit === "month") return d.toLocaleDateString(undefined, { month: "short", year: "numeric" });
    return String(d.getFullYear());
  }
  /** A bucket label of the server ("YYYY-MM-DD HH:MI:SS", wall-clock time) as a local Date. */
  const bucketDate = (t) => {
    const [y, m, d, hh, mi] = t.split(/[-T :]/).map(Number);
    return new Date(y, m - 1, d, hh || 0, mi || 0);
  };

  const duration = format.duration;

  /** What a metric value looks like to a person (countries and languages by name). */
  const display = (type, row) => format.name(type, row.x ?? row.name, row.country);

  /** A theme colour as the browser resolved it (the variables hold light-dark() pairs). */
  function css(name) {
    const probe = document.createElement("span");
    probe.style.color = `var(${name})`;
    document.body.appendChild(probe);
    const color = getComputedStyle(probe).color;
    probe.remove();
    return color;
  }

  /** The countries of world-atlas, each with its alpha-2 code (the API's country values),
   *  fetched once per page. */
  let shapesPromise = null;
  function worldShapes(urls) {
    shapesPromise ||= Promise.all([fetch(urls.topology).then((r) => r.json()), fetch(urls.codes).then((r) => r.json())]).then(([topology, codes]) => {
      const alpha2 = Object.fromEntries(codes.map(([a2, , numeric]) => [numeric, a2]));
      return ChartGeo.topojson.feature(topology, topology.objects.countries).features
        .filter((feature) => feature.properties.name !== "Antarctica")
        .map((feature) => ({ feature, code: alpha2[feature.id] || "", name: feature.properties.name }));
    });
    return shapesPromise;
  }

  /** A choropleth of `counts` (alpha-2 code → visitors) on `canvas`; a click on a country with
   *  visitors calls `onPick(code)`. */
  async function drawWorldMap(canvas, urls, counts, onPick) {
    const shapes = await worldShapes(urls);
    // Countries without visitors get no value, so the colour scale paints them as "missing".
    const data = shapes.map(({ feature, code }) => ({ feature, value: counts[code] ?? NaN }));
    const [r, g, b] = css("--primary").match(/\d+/g);
    Chart.getChart(canvas)?.destroy();
    new Chart(canvas, {
      type: "choropleth",
      data: { labels: shapes.map((s) => s.name), datasets: [{ label: "Visitors", outline: shapes.map((s) => s.feature), data,
        borderColor: css("--border-strong"), borderWidth: 0.5 }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, showOutline: false, showGraticule: false,
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => `${ctx.chart.data.labels[ctx.dataIndex]}: ${number.format(ctx.raw.value || 0)}` } } },
        scales: {
          projection: { axis: "x", projection: "equalEarth" },
          color: { axis: "x", display: false, missing: css("--surface-2"), interpolate: (v) => `rgba(${r}, ${g}, ${b}, ${(0.3 + v * 0.7).toFixed(2)})` },
        },
        onClick: (_, elements) => {
          const hit = elements[0];
          if (hit && onPick && data[hit.index].value > 0) onPick(shapes[hit.index].code);
        },
      },
    });
  }

  window.katsuoRanges = { presetRange, RANGES, buckets, bucketKey, normalizeBucket, label, css };
  window.katsuoFilters = { FILTER_FIELDS, OPERATORS };
  window.katsuoMap = { draw: drawWorldMap };
  /** A metric value as people name it: katsuoName("browser", "chrome") → "Chrome". */
  window.katsuoName = (type, value, country) => display(type, { x: value, country });

  // The chart's answer under way: the metric tables' comparison waits for its window.
  let pendingChart = null;

  // A share URL's slug resolution under way, kept out of Alpine's state (a Promise behind its
  // reactive proxy cannot be awaited).
  let pendingShare = null;

  document.addEventListener("alpine:init", () => {
    Alpine.data("dashboard", (config) => ({
      websiteId: config.websiteId,
      share: config.share || null,
      shareToken: null,
      shareGone: false,
      fields: FILTER_FIELDS,
      operators: OPERATORS,
      ranges: RANGES,
      groups: METRIC_GROUPS,
      range: "7d",
      customStart: "",
      customEnd: "",
      unit: "",
      units: ["hour", "day", "month"],
      unitNames: { minute: "Minutes", hour: "Hours", day: "Days", month: "Months", year: "Years" },
      compare: "",
      filters: [],
      segment: "",
      cohort: "",
      segments: [],
      cohorts: [],
      draft: { name: "path", operator: "eq", value: "" },
      active: null,
      stats: null,
      statsError: "",
      seriesError: "",
      loadingSeries: true,
      metrics: {},
      tabs: Object.fromEntries(METRIC_GROUPS.map((g) => [g.id, g.tabs[0][0]])),
      chart: null,
      mapUrls: config.map || null,
      mapCountries: 0,
      expanded: null,

      async init() {
        this.readUrl();
        if (this.share) {
          if (!(await this.resolveShare())) return;
        } else if (config.segments) {
          this.loadSegments();
        }
        this.load();
        this.loadActive();
        setInterval(() => this.loadActive(), 30000);
        window.addEventListener("katsuo:theme", () => this.load());
      },

      // --- state <-> URL -------------------------------------------------------------------
      readUrl() {
        const params = new URLSearchParams(location.search);
        this.range = params.get("range") || "7d";
        this.customStart = params.get("start") || "";
        this.customEnd = params.get("end") || "";
        this.unit = params.get("unit") || "";
        this.compare = params.get("compare") || "";
        this.segment = params.get("segment") || "";
        this.cohort = params.get("cohort") || "";
        this.filters = [];
        for (const [key, raw] of params) {
          const name = key.replace(/\d+$/, "");
          if (!FILTER_KEYS.has(name)) continue;
          const match = /^(eq|neq|c|dnc|re|nre)\.(.*)$/s.exec(raw);
          this.filters.push(match ? { name, operator: match[1], value: match[2] } : { name, operator: "eq", value: raw });
        }
      },
      writeUrl() {
        const params = new URLSearchParams();
        params.set("range", this.range);
        if (this.range === "custom") { params.set("start", this.customStart); params.set("end", this.customEnd); }
        if (this.unit) params.set("unit", this.unit);
        if (this.compare) params.set("compare", this.compare);
        if (this.segment) params.set("segment", this.segment);
        if (this.cohort) params.set("cohort", this.cohort);
        this.filterParams(params);
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

      // --- the query every panel sends ----------------------------------------------------------
      get window() {
        if (this.range === "custom" && this.customStart && this.customEnd) {
          const [ys, ms, ds] = this.customStart.split("-").map(Number);
          const [ye, me, de] = this.customEnd.split("-").map(Number);
          const start = new Date(ys, ms - 1, ds), end = endOfDay(new Date(ye, me - 1, de));
          const days = (end - start) / DAY;
          return { start, end, unit: this.unit || (days <= 2 ? "hour" : days <= 400 ? "day" : "month") };
        }
        if (this.range === "all") {
          const end = new Date(), start = startOfDay(this.firstDate || end);
          const days = (end - start) / DAY;
          return { start, end, unit: this.unit || (days <= 2 ? "hour" : days <= 400 ? "day" : "month") };
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
      async get(path, extra) {
        const url = `/api/websites/${this.websiteId}${path}?${this.params(extra)}`;
        return this.share ? this.sharedGet(url) : katsuo.api("GET", url);
      },

      // --- a share URL: its token, asked for again when it expires or is refused ---------------
      /** Resolve the slug into a token and the sections the share publishes; false (and a notice)
       *  once the share is gone. Concurrent callers share one request. */
      resolveShare() {
        pendingShare ||= fetch(`${katsuo.base}/api/share/${encodeURIComponent(this.share)}`)
          .then(async (response) => {
            const shared = response.ok ? await response.json() : null;
            this.shareToken = shared?.token || null;
            this.shareGone = !this.shareToken;
            // The overview is always shown; the events table only when the share publishes events.
            const published = shared?.parameters || {};
            this.groups = METRIC_GROUPS.filter((group) => group.id !== "events" || published.events === true);
            return !this.shareGone;
          })
          .finally(() => { pendingShare = null; });
        return pendingShare;
      },
      async sharedGet(url, retry = true) {
        if (this.shareGone) throw new Error("This share is no longer available.");
        const token = this.shareToken;
        const response = await fetch(katsuo.base + url, {
          headers: { "x-umami-share-token": token, "x-umami-share-context": "1" },
        });
        if (response.status === 401 && retry) {
          // Expired, or the share changed: a fresh token from the slug, then once more.
          if (this.shareToken === token) await this.resolveShare();
          return this.sharedGet(url, false);
        }
        const data = await response.json().catch(() => null);
        if (!response.ok) throw new Error(data?.error?.message || `Request failed (${response.status})`);
        return data;
      },

      // --- loading ------------------------------------------------------------------------------
      /** When the website's data begins, for "All time". */
      async loadFirstDate() {
        try {
          const { startDate } = await this.get("/daterange");
          this.firstDate = startDate ? new Date(startDate) : null;
        } catch (_) {
          this.firstDate = null;
        }
      },
      firstDate: undefined,
      async load() {
        // "All time" needs to know when the data begins; asked only then, so other ranges never
        // wait for it.
        if (this.range === "all" && this.firstDate === undefined) await this.loadFirstDate();
        this.writeUrl();
        this.loadStats();
        this.loadSeries();
        for (const group of this.groups) this.loadMetric(this.tabs[group.id]);
        this.loadMap();
      },
      async loadActive() {
        try {
          const url = `/api/websites/${this.websiteId}/active`;
          const data = this.share ? await this.sharedGet(url) : await katsuo.api("GET", url);
          this.active = data.visitors ?? null;
        } catch (_) {
          this.active = null;
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
      async loadStats() {
        this.statsError = "";
        try {
          this.stats = await this.get("/stats", { compare: this.compare || "prev" });
        } catch (error) {
          this.stats = null;
          this.statsError = error.message;
        }
      },
      /** The chart as the server answers it: its unit, the units it honours for the range,
       *  every bucket and the comparison window. */
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
            return null;
          })
          .finally(() => { this.loadingSeries = false; });
      },
      async loadMetric(type, more = false) {
        const current = this.metrics[type] || {};
        const limit = more ? 100 : current.limit || 10;
        this.metrics[type] = { ...current, loading: true, error: "", limit };
        try {
          const rows = await this.get("/metrics", { type, limit, search: current.search || "" });
          // Compare mode: each row's value in the previous window, for its change.
          let previous = null;
          // The server's comparison window (the same as the chart's and the cards').
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

      // --- stat cards ---------------------------------------------------------------------------
      get cards() {
        const s = this.stats;
        if (!s) return [];
        const c = s.comparison || {};
        const rate = (x) => (x.visits ? (Math.min(x.visits, x.bounces) / x.visits) * 100 : 0);
        const avg = (x) => (x.visits ? x.totaltime / x.visits : 0);
        return [
          { key: "visitors", label: "Visitors", value: +s.visitors, prev: +c.visitors, text: number.format(+s.visitors) },
          { key: "visits", label: "Visits", value: +s.visits, prev: +c.visits, text: number.format(+s.visits) },
          { key: "pageviews", label: "Views", value: +s.pageviews, prev: +c.pageviews, text: number.format(+s.pageviews) },
          { key: "bounce", label: "Bounce rate", value: rate(s), prev: rate(c), text: `${Math.round(rate(s))}%`, inverse: true },
          { key: "duration", label: "Visit duration", value: avg(s), prev: avg(c), text: duration(avg(s)) },
        ].map((card) => {
          const change = card.prev ? ((card.value - card.prev) / card.prev) * 100 : null;
          const good = change === null ? null : card.inverse ? change < 0 : change > 0;
          return { ...card, change: change === null ? "" : `${change > 0 ? "+" : ""}${Math.round(change)}%`, good };
        });
      },

      // --- chart --------------------------------------------------------------------------------
      draw(data) {
        const unit = data.unit, slots = data.buckets;
        const datasets = [
          { label: "Visitors", data: slots.map((b) => b.visitors), backgroundColor: css("--primary"), borderRadius: 4, order: 1 },
          { label: "Views", data: slots.map((b) => b.views), backgroundColor: css("--primary-soft"), borderColor: css("--primary"), borderWidth: 1, borderRadius: 4, order: 2 },
        ];
        if (data.compare) {
          // The previous window's buckets line up with ours by position.
          const before = data.compare.buckets;
          const line = (key, name, color) => ({ type: "line", label: name, data: slots.map((_, i) => before[i]?.[key] ?? null), borderColor: color, borderDash: [5, 4], pointRadius: 0, borderWidth: 2, tension: 0.3, order: 0 });
          datasets.push(line("visitors", "Previous visitors", css("--muted")), line("views", "Previous views", css("--border-strong")));
        }
        const labels = slots.map((b) => label(bucketDate(b.t), unit));
        const canvas = this.$refs.chart;
        if (!canvas) return;
        const existing = Chart.getChart(canvas);
        if (existing) existing.destroy();
        new Chart(canvas, {
          type: "bar",
          data: { labels, datasets },
          options: {
            responsive: true, maintainAspectRatio: false, animation: false,
            interaction: { mode: "index", intersect: false },
            plugins: { legend: { labels: { color: css("--muted"), boxWidth: 12 } } },
            scales: {
              x: { stacked: true, grid: { display: false }, ticks: { color: css("--muted"), maxRotation: 0, autoSkipPadding: 12 } },
              y: { beginAtZero: true, grid: { color: css("--border") }, ticks: { color: css("--muted"), precision: 0 } },
            },
          },
        });
        this.chartTotals = { views: slots.reduce((a, b) => a + b.views, 0), visitors: slots.reduce((a, b) => a + b.visitors, 0) };
      },
      chartTotals: null,

      // --- metric tables ------------------------------------------------------------------------
      tab(group) {
        return group.tabs.find(([type]) => type === this.tabs[group.id]);
      },
      select(group, type) {
        this.tabs[group.id] = type;
        if (!this.metrics[type]) this.loadMetric(type);
      },
      rows(type) {
        const rows = this.metrics[type]?.rows || [];
        const total = rows.reduce((sum, row) => sum + +row.y, 0) || 1;
        const previous = this.metrics[type]?.previous;
        return rows.map((row) => {
          const before = previous ? previous[String(row.x)] || 0 : null;
          const change = before === null ? null : before ? Math.round(((+row.y - before) / before) * 100) : null;
          return { ...row, label: display(type, row), share: (+row.y / total) * 100, count: number.format(+row.y),
            change: previous ? (change === null ? "new" : `${change > 0 ? "+" : ""}${change}%`) : "", up: change === null || change >= 0 };
        });
      },
      filterBy(field, value) {
        if (!field || value === null || value === undefined || value === "") return;
        this.filters.push({ name: field, operator: "eq", value: String(value) });
        this.load();
      },

      // --- the world map: visitors by country, shaded ------------------------------------------
      async loadMap() {
        const canvas = document.getElementById("world-map");
        if (!canvas || !this.mapUrls || !window.ChartGeo) return;
        try {
          const rows = await this.get("/metrics", { type: "country", limit: 500 });
          this.mapCountries = rows.length;
          const visitors = Object.fromEntries(rows.map((row) => [String(row.x).toUpperCase(), +row.y]));
          await drawWorldMap(canvas, this.mapUrls, visitors, (code) => this.filterBy("country", code));
        } catch (error) {
          this.mapCountries = 0;
        }
      },

      // --- the expanded view of one metric table ------------------------------------------------
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
          label: display(view.type, { x: row.name, country: row.country }),
          visitors: number.format(+row.visitors),
          visits: number.format(+row.visits),
          views: number.format(+row.pageviews),
          bounce: row.visits ? `${Math.round((Math.min(+row.bounces, +row.visits) / +row.visits) * 100)}%` : "0%",
          duration: duration(row.visits ? +row.totaltime / +row.visits : 0),
        }));
      },
      filterFromExpanded(value) {
        const view = this.expanded;
        this.$refs.expandedDialog.close();
        this.filterBy(view.field, value);
      },

      // --- filters, segments, cohorts -----------------------------------------------------------
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
      suggestions: [],
      addFilter() {
        if (!this.draft.value) return;
        const picked = this.suggestions.find((s) => s.label === this.draft.value);
        const value = picked ? picked.value : format.codeOf(this.draft.name, this.draft.value);
        this.filters.push({ ...this.draft, value });
        this.draft = { name: this.draft.name, operator: "eq", value: "" };
        this.$refs.filterDialog?.close();
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
      async saveSegment(name) {
        await katsuo.api("POST", `/api/websites/${this.websiteId}/segments`, {
          type: "segment",
          name,
          parameters: { filters: this.filters.map((f) => ({ name: f.name, operator: f.operator, value: f.value })) },
        });
        await this.loadSegments();
        katsuo.toast("Segment saved");
      },
      rangeLabel() {
        const { start, end } = this.window;
        const fmt = { month: "short", day: "numeric", year: "numeric" };
        return `${start.toLocaleDateString("en-US", fmt)} – ${end.toLocaleDateString("en-US", fmt)}`;
      },
      setRange(key) {
        this.range = key;
        if (key === "custom" && !this.customStart) {
          const [s, e] = presetRange("7d");
          const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
          this.customStart = iso(s);
          this.customEnd = iso(e);
        }
        this.load();
      },
    }));
  });
})();

// The realtime page: the last 30 minutes, refreshed every few seconds.
(() => {
  const REFRESH_MS = 5000;
  const ranked = (counts) =>
    Object.entries(counts || {}).map(([x, y]) => ({ x, y: +y })).sort((a, b) => b.y - a.y).slice(0, 10);

  document.addEventListener("alpine:init", () => {
    Alpine.data("realtime", (websiteId, mapUrls) => ({
      data: null,
      error: "",
      updated: "",
      init() {
        this.load();
        setInterval(() => this.load(), REFRESH_MS);
      },
      async load() {
        try {
          this.data = await katsuo.api("GET", `/api/realtime/${websiteId}`);
          this.error = "";
          this.updated = new Date().toLocaleTimeString();
          const counts = Object.fromEntries(Object.entries(this.data.countries || {}).map(([code, n]) => [code.toUpperCase(), +n]));
          if (window.ChartGeo) await katsuoMap.draw(this.$refs.map, mapUrls, counts, null);
        } catch (error) {
          this.error = error.message;
        }
      },
      get totals() {
        const t = this.data?.totals || {};
        return [["views", "Views"], ["visitors", "Visitors"], ["events", "Events"], ["countries", "Countries"]]
          .map(([key, name]) => ({ key, name, value: t[key] ?? 0 }));
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
    }));
  });
})();

// Sessions and events: the API's list for a preset range with search and paging, their totals, a
// properties tab (which properties the events or sessions carried, and each one's values), and on
// the sessions page the weekly traffic heatmap.
(() => {
  const country = (code) => (code ? format.name("country", code) : "");
  const number = { format: format.number };
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

  document.addEventListener("alpine:init", () => {
    Alpine.data("activityList", (websiteId, kind) => ({
      range: "7d",
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
      ranges: katsuoRanges.RANGES.filter(([key]) => key !== "custom" && key !== "all"),
      init() { this.load(); },
      window() {
        const [start, end] = katsuoRanges.presetRange(this.range);
        return { startAt: start.getTime(), endAt: end.getTime(), timezone };
      },
      async get(path, extra = {}) {
        const params = new URLSearchParams({ ...this.window(), ...extra });
        return katsuo.api("GET", `/api/websites/${websiteId}${path}?${params}`);
      },
      async load() {
        const extra = { page: this.page, pageSize: 20 };
        if (this.search) extra.search = this.search;
        try {
          [this.result, this.stats] = await Promise.all([this.get(`/${kind}`, extra), this.get(`/${kind}/stats`)]);
          if (kind === "sessions") this.weekly = await this.get("/sessions/weekly");
          if (kind === "events") this.drawSeries(await this.get("/events/series", { unit: "day", limit: 8 }));
          if (this.tab === "properties") await this.loadProperties();
          this.error = "";
        } catch (error) {
          this.error = error.message;
        }
      },
      get rows() {
        return (this.result?.data || []).map((row) => ({
          ...row,
          place: [row.city, country(row.country)].filter(Boolean).join(", "),
          browserName: katsuoName("browser", row.browser), osName: katsuoName("os", row.os), deviceName: katsuoName("device", row.device),
          when: format.dateTime(row.lastAt || row.createdAt),
          what: row.eventType === 2 ? row.eventName : row.urlPath,
        }));
      },
      get pages() { return this.result ? Math.max(1, Math.ceil(this.result.count / 20)) : 1; },
      go(delta) { this.page += delta; this.load(); },

      // --- totals ---------------------------------------------------------------------------------
      get totals() {
        const s = this.stats?.data || this.stats || {};
        const value = (key) => number.format(+(s[key]?.value ?? s[key] ?? 0));
        return kind === "sessions"
          ? [["visitors", "Visitors"], ["visits", "Visits"], ["pageviews", "Views and events"], ["countries", "Countries"]].map(([key, name]) => ({ key, name, value: value(key) }))
          : [["events", "Events"], ["uniqueEvents", "Unique events"], ["visitors", "Visitors"], ["visits", "Visits"]].map(([key, name]) => ({ key, name, value: value(key) }));
      },

      // --- events over time, one stacked colour per event name ----------------------------------
      drawSeries(series) {
        const canvas = this.$refs.eventChart;
        if (!canvas || !window.Chart) return;
        const [start, end] = katsuoRanges.presetRange(this.range);
        const slots = katsuoRanges.buckets(start, end, "day");
        const names = [...new Set(series.map((p) => p.x))];
        const palette = ["#2f6bed", "#7c5cff", "#12a37f", "#e8a317", "#e5484d", "#0ea5e9", "#d946ef", "#64748b"];
        const datasets = names.map((name, i) => {
          const counts = {};
          for (const p of series) if (p.x === name) counts[katsuoRanges.normalizeBucket(p.t)] = +p.y;
          return { label: name, data: slots.map((d) => counts[katsuoRanges.bucketKey(d, "day")] || 0), backgroundColor: palette[i % palette.length], borderRadius: 3 };
        });
        Chart.getChart(canvas)?.destroy();
        new Chart(canvas, {
          type: "bar",
          data: { labels: slots.map((d) => katsuoRanges.label(d, "day")), datasets },
          options: {
            responsive: true, maintainAspectRatio: false, animation: false,
            plugins: { legend: { labels: { color: katsuoRanges.css("--muted"), boxWidth: 12 } } },
            scales: { x: { stacked: true, grid: { display: false }, ticks: { color: katsuoRanges.css("--muted") } },
              y: { stacked: true, beginAtZero: true, ticks: { precision: 0, color: katsuoRanges.css("--muted") }, grid: { color: katsuoRanges.css("--border") } } },
          },
        });
      },

      // --- weekly heatmap: sessions by weekday and hour (the browser's time zone) -----------------
      get heat() {
        const grid = this.weekly || [];
        const max = Math.max(1, ...grid.flat());
        return grid.map((hours, day) => ({ day: DAYS[day], cells: hours.map((count, hour) => ({ hour, count, alpha: count ? 0.15 + (count / max) * 0.85 : 0 })) }));
      },

      // --- properties -----------------------------------------------------------------------------
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
        return rows.map((row) => ({ label: String(row.value ?? "(none)"), count: number.format(+row.total), share: (+row.total / total) * 100 }));
      },
      isProperty(p) { return this.property && this.property.propertyName === p.propertyName && this.property.eventName === p.eventName; },
    }));

    // One visitor: their session, what they did visit by visit, and the properties they carried.
    Alpine.data("visitorProfile", (websiteId, sessionId) => ({
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
          ["Country", [s.city, country(s.country)].filter(Boolean).join(", ") || "—"], ["Browser", katsuoName("browser", s.browser)],
          ["OS", katsuoName("os", s.os)], ["Device", katsuoName("device", s.device)], ["Screen", s.screen],
          ["Language", s.language ? katsuoName("language", s.language) : "—"], ["Distinct ID", s.distinctId || "—"],
          ["First seen", format.dateTime(s.firstAt)], ["Last seen", format.dateTime(s.lastAt)],
          ["Visits", number.format(s.visits)], ["Views", number.format(s.views)], ["Events", number.format(s.events)],
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
    }));
  });
})();

// Segments and cohorts: the create/edit dialog (saved filters; a cohort adds an action and a
// date range). The API validates; this only shapes the body.
(() => {
  const COHORT_RANGES = format.COHORT_RANGES;
  document.addEventListener("alpine:init", () => {
    Alpine.data("segmentEditor", (websiteId, type) => ({
      fields: katsuoFilters.FILTER_FIELDS,
      operators: katsuoFilters.OPERATORS,
      cohortRanges: COHORT_RANGES,
      id: null,
      name: "",
      match: "all",
      filters: [],
      action: { type: "path", value: "" },
      dateRange: "30day",
      busy: false,
      error: "",
      open(segment) {
        const p = segment?.parameters || {};
        this.id = segment?.id || null;
        this.name = segment?.name || "";
        this.match = p.match || "all";
        this.filters = (p.filters || []).map((f) => ({ ...f }));
        if (!this.filters.length && type === "segment") this.addRow();
        this.action = { type: p.action?.type || "path", value: p.action?.value || "" };
        this.dateRange = p.dateRange || "30day";
        this.error = "";
        this.$refs.dialog.showModal();
      },
      addRow() { this.filters.push({ name: "path", operator: "eq", value: "" }); },
      async save() {
        this.busy = true;
        this.error = "";
        const parameters = { filters: this.filters.filter((f) => f.value !== ""), match: this.match };
        if (type === "cohort") Object.assign(parameters, { action: this.action, dateRange: this.dateRange });
        try {
          const path = `/api/websites/${websiteId}/segments${this.id ? "/" + this.id : ""}`;
          await katsuo.api("POST", path, { type, name: this.name, parameters });
          location.reload();
        } catch (error) {
          this.error = error.message;
          this.busy = false;
        }
      },
    }));
  });
})();
