// One Insights report: its parameters (new or saved), run through POST /api/reports/<type>, its
// results drawn per type, and save/delete through /api/reports. The API validates everything;
// this only shapes the body and shows the answer.
(() => {
  const DEFAULTS = {
    funnel: () => ({ steps: [{ type: "path", value: "" }, { type: "path", value: "" }], window: 60 }),
    goal: () => ({ type: "path", value: "" }),
    journey: () => ({ steps: 5, startStep: "", endStep: "" }),
    retention: () => ({ month: thisMonth() }),
    breakdown: () => ({ fields: ["path"] }),
    revenue: () => ({ currency: "USD" }),
    utm: () => ({}),
    attribution: () => ({ model: "firstClick", type: "path", step: "" }),
  };
  const LISTS = {
    utm: [["utm_source", "Sources"], ["utm_medium", "Mediums"], ["utm_campaign", "Campaigns"], ["utm_term", "Terms"], ["utm_content", "Contents"]],
    attribution: [["referrer", "Referrers"], ["paidAds", "Paid ads"], ["utm_source", "Sources"], ["utm_medium", "Mediums"], ["utm_campaign", "Campaigns"], ["utm_content", "Contents"], ["utm_term", "Terms"]],
    revenue: [["country", "Countries"], ["region", "Regions"], ["referrer", "Referrers"], ["channel", "Channels"]],
  };
  const pad = (n) => String(n).padStart(2, "0");
  const thisMonth = (d = new Date()) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
  /** Retention looks at one month (docs: "the desired month and year"), from its first day to its last. */
  function monthRange(month) {
    const [year, m] = String(month || thisMonth()).split("-").map(Number);
    return [new Date(year, m - 1, 1), new Date(year, m, 1, 0, 0, 0, -1), "day"];
  }
  const format = window.katsuoFormat;
  // The API's names of the parameters this form sets, as the form labels them: an error the API
  // still finds is said in the form's words, next to the field when the form has one.
  const PARAMETER_LABELS = {
    "parameters.fields": ["fields", "Break down by"],
    "parameters.currency": ["currency", "Currency"],
    "parameters.steps": ["steps", "Steps"],
    "parameters.window": ["window", "Window"],
    "parameters.value": ["step", "Goal"],
    "parameters.step": ["step", "Goal"],
    "parameters.startStep": ["startStep", "Start with"],
    "parameters.endStep": ["endStep", "End with"],
    "parameters.startDate": ["range", "Date range"],
    "parameters.endDate": ["range", "Date range"],
  };
  /** An API error as [field or "", plain sentence] pairs, each said once. */
  function plainErrors(message) {
    const seen = new Set();
    const found = [];
    for (const part of String(message || "").split("; ")) {
      const match = /^([\w.\[\]]+): (.*)$/s.exec(part);
      const [key, label] = match ? PARAMETER_LABELS[match[1].replace(/\[\d+\]|\.\d+.*$/, "")] || ["", ""] : ["", ""];
      let text = match ? match[2] : part;
      text = text.replace(/^'[^']*' is not an ISO 4217 currency code$/, "choose a currency from the list.");
      text = text.replace(/^must have (\d+) to (\d+) items \(got (\d+)\)$/, "choose between $1 and $2 (not $3).");
      const sentence = label ? `${label}: ${text}` : text.charAt(0).toUpperCase() + text.slice(1);
      if (!seen.has(sentence)) found.push([key, sentence]);
      seen.add(sentence);
    }
    return found;
  }
  const filtersFrom = (saved) => (Array.isArray(saved) ? saved.map((f) => ({ name: f.name, operator: f.operator, value: f.value })) : []);
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

  document.addEventListener("alpine:init", () => {
    Alpine.data("reportEditor", (config) => ({
      type: config.type,
      id: config.report?.id || null,
      name: config.report?.name || "",
      description: config.report?.description || "",
      params: { ...DEFAULTS[config.type](), ...(config.report?.parameters || {}) },
      range: config.report?.parameters?.dateRange || "7d",
      ranges: katsuoRanges.RANGES.filter(([key]) => key !== "custom" && key !== "all"),
      fields: katsuoFilters.FILTER_FIELDS,
      lists: LISTS[config.type] || [],
      operators: katsuoFilters.OPERATORS,
      filters: filtersFrom(config.report?.parameters?.filters),
      segment: config.report?.parameters?.segment || "",
      cohort: config.report?.parameters?.cohort || "",
      segments: [],
      cohorts: [],
      result: null,
      resultFields: [],
      resultCurrency: "",
      fieldErrors: {},
      currencies: config.currencies || [],
      suggestions: { path: [], event: [] },
      selected: [],
      revenueTable: [],
      busy: false,
      error: "",

      init() {
        // Universal filtering: a new report starts with the overview's date range and filters
        // (the Reports tab carries them in its query string).
        const carried = new URLSearchParams(location.search);
        this.loadSegments();
        if (config.suggest) this.loadSuggestions();
        if (!this.id) {
          this.segment = carried.get("segment") || "";
          this.cohort = carried.get("cohort") || "";
          const range = carried.get("range");
          if (range && this.ranges.some(([key]) => key === range)) this.range = range;
          for (const [name, raw] of carried) {
            if (!this.fields.some(([key]) => key === name)) continue;
            const match = /^(eq|neq|c|dnc|re|nre)\.(.*)$/s.exec(raw);
            this.filters.push(match ? { name, operator: match[1], value: match[2] } : { name, operator: "eq", value: raw });
          }
        }
        if (this.id) this.run();
      },
      async loadSegments() {
        const list = (type) => katsuo.api("GET", `/api/websites/${config.websiteId}/segments?type=${type}&pageSize=200`).then((r) => r.data, () => []);
        [this.segments, this.cohorts] = await Promise.all([list("segment"), list("cohort")]);
      },
      /** The website's pages and events of the last 90 days, offered as the steps' values. */
      async loadSuggestions() {
        const [start, end] = katsuoRanges.presetRange("90d");
        const names = (type) => katsuo
          .api("GET", `/api/websites/${config.websiteId}/metrics?type=${type}&startAt=${start.getTime()}&endAt=${end.getTime()}&limit=100`)
          .then((rows) => rows.map((row) => row.x).filter(Boolean), () => []);
        const [path, event] = await Promise.all([names("path"), names("event")]);
        this.suggestions = { path, event };
      },
      /** What the form can tell before asking the server, in plain words next to the field. */
      check() {
        const errors = {};
        if (this.type === "breakdown" && !this.params.fields.length) errors.fields = "Choose at least one property to break down by.";
        if (this.type === "breakdown" && this.params.fields.length > 20) errors.fields = `Choose at most 20 properties (${this.params.fields.length} are checked).`;
        if (this.type === "revenue" && !this.currencies.some(([code]) => code === this.params.currency)) errors.currency = "Choose a currency from the list.";
        this.fieldErrors = errors;
        return !Object.keys(errors).length;
      },
      /** Shows an API error: beside its field when the form has one, else above the buttons. */
      showError(error) {
        const fields = {};
        const general = [];
        for (const [key, sentence] of plainErrors(error.message)) {
          if (key && key !== "range") fields[key] = sentence.replace(/^[^:]+: /, "");
          else general.push(sentence);
        }
        this.fieldErrors = fields;
        this.error = general.join(" ");
      },
      addFilter() { this.filters.push({ name: "path", operator: "eq", value: "" }); },
      /** The filters as a report body carries them: one "operator.value" per field. */
      filterBody() {
        const body = {};
        for (const f of this.filters) if (f.value !== "") body[f.name] = `${f.operator}.${f.value}`;
        if (this.segment) body.segment = this.segment;
        if (this.cohort) body.cohort = this.cohort;
        return body;
      },

      /** The saved parameters: the report's own, plus the date range it was looked at with. */
      savedParameters() {
        const params = JSON.parse(JSON.stringify(this.params));
        for (const key of ["startStep", "endStep"]) if (params[key] === "") delete params[key];
        const range = this.type === "retention" ? {} : { dateRange: this.range };
        const groups = { ...(this.segment && { segment: this.segment }), ...(this.cohort && { cohort: this.cohort }) };
        return { ...params, ...range, ...groups, filters: this.filters.filter((f) => f.value !== "") };
      },
      async run() {
        const { dateRange, filters, month, segment, cohort, ...parameters } = this.savedParameters();
        const [start, end, unit] = this.type === "retention" ? monthRange(month) : katsuoRanges.presetRange(this.range);
        this.error = "";
        if (!this.check()) {
          this.result = null; // what is on screen no longer matches the form
          return;
        }
        this.busy = true;
        try {
          const result = await katsuo.api("POST", `/api/reports/${this.type}`, {
            websiteId: config.websiteId, type: this.type, filters: this.filterBody(),
            parameters: { ...parameters, startDate: start.toISOString(), endDate: end.toISOString(), timezone, unit },
          });
          this.resultFields = this.type === "breakdown" ? [...parameters.fields] : [];
          this.resultCurrency = parameters.currency || "";
          this.selected = [];
          this.result = result;
          if (this.type === "revenue") await this.drawRevenue(start, end, unit);
        } catch (error) {
          // A failed run leaves no earlier numbers on screen as if they answered this form.
          this.result = null;
          this.showError(error);
        } finally {
          this.busy = false;
        }
      },
      async save() {
        this.busy = true;
        this.error = "";
        try {
          const body = { websiteId: config.websiteId, type: this.type, name: this.name || config.type, description: this.description, parameters: this.savedParameters() };
          const saved = await katsuo.api("POST", this.id ? `/api/reports/${this.id}` : "/api/reports", body);
          katsuo.toast("Report saved");
          if (!this.id) location.assign(`${config.reportsUrl}/${saved.id}`);
        } catch (error) {
          this.error = error.message;
        } finally {
          this.busy = false;
        }
      },
      async remove() {
        if (!confirm(`Delete ${this.name}?`)) return;
        try {
          await katsuo.api("DELETE", `/api/reports/${this.id}`);
          location.assign(config.reportsUrl);
        } catch (error) {
          this.error = error.message;
        }
      },
      fullscreen() {
        if (document.fullscreenElement) document.exitFullscreen();
        else this.$refs.results.requestFullscreen?.();
      },

      // --- formatting ----------------------------------------------------------------------------
      fmt(value) { return format.number(value); },
      percent(ratio) { return `${Math.round((+ratio || 0) * 100)}%`; },
      money(value) {
        // In the currency the shown results were asked for, whatever the form says meanwhile.
        try { return new Intl.NumberFormat(undefined, { style: "currency", currency: this.resultCurrency || "USD" }).format(+value || 0); }
        catch (_) { return format.number(value); }
      },
      seconds(value) {
        const s = Math.round(value || 0), m = Math.floor(s / 60);
        return m ? `${m}m ${s % 60}s` : `${s}s`;
      },
      fieldLabel(key) { return (this.fields.find(([k]) => k === key) || [key, key])[1]; },

      // --- named lists (UTM, attribution, revenue) ---------------------------------------------
      listRows(key) {
        const named = (value) => (value === null || value === undefined || value === "" ? "(none)" : katsuoName(key, value));
        const rows = (this.result?.[key] || []).map((row) => ({ label: named(row.name ?? row.utm ?? row.x), value: +(row.value ?? row.views ?? row.y ?? 0) }));
        const total = rows.reduce((sum, row) => sum + row.value, 0) || 1;
        const money = this.type === "revenue";
        return rows.map((row) => ({ ...row, share: (row.value / total) * 100, text: money ? this.money(row.value) : this.fmt(row.value) }));
      },

      // --- journey: columns of steps, a selectable path ------------------------------------------
      get journeyColumns() {
        const paths = Array.isArray(this.result) ? this.result : [];
        if (this.type !== "journey" || !paths.length) return [];
        const width = Math.max(...paths.map((p) => p.items.length));
        const onSelectedPath = (p) => this.selected.every((value, c) => value === null || value === undefined || p.items[c] === value);
        const columns = [];
        for (let c = 0; c < width; c++) {
          const nodes = {};
          for (const p of paths) {
            const value = p.items[c];
            if (value === null || value === undefined) continue;
            const node = (nodes[value] ||= { key: `${c}:${value}`, column: c, value, label: value, count: 0, continuing: 0, onPath: false });
            node.count += p.count;
            if (p.items[c + 1] !== null && p.items[c + 1] !== undefined) node.continuing += p.count;
            if (onSelectedPath(p)) node.onPath = true;
          }
          if (!Object.keys(nodes).length) break;
          columns.push(Object.values(nodes)
            .map((n) => ({ ...n, conversion: n.count ? n.continuing / n.count : 0, dropoff: n.count ? 1 - n.continuing / n.count : 0 }))
            .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label)));
        }
        return columns;
      },
      isSelected(node) { return this.selected[node.column] === node.value; },
      toggleNode(node) {
        const next = [...this.selected];
        next[node.column] = this.isSelected(node) ? null : node.value;
        this.selected = next;
      },

      // --- retention: cohort day × days later ---------------------------------------------------
      get retentionGrid() {
        const rows = Array.isArray(this.result) && this.type === "retention" ? this.result : [];
        const days = [...new Set(rows.map((r) => r.day))].sort((a, b) => a - b);
        const byDate = {};
        for (const r of rows) {
          const row = (byDate[r.date] ||= { date: r.date, label: format.day(r.date), visitors: r.visitors, cells: {} });
          row.cells[r.day] = r;
        }
        return { days, rows: Object.values(byDate).sort((a, b) => a.date.localeCompare(b.date)) };
      },

      // --- revenue over time ------------------------------------------------------------------------
      /** Revenue per bucket of the server's chart for the same range: every bucket, empty ones
       * included, labelled like every other chart. */
      async drawRevenue(start, end, unit) {
        const query = new URLSearchParams({ startAt: start.getTime(), endAt: end.getTime(), unit, timezone });
        const chart = await katsuo.api("GET", `/api/websites/${config.websiteId}/chart?${query}`);
        const byBucket = {};
        for (const point of this.result.chart || []) {
          const bucket = format.wallClock(point.t);
          byBucket[bucket] = (byBucket[bucket] || 0) + +point.y;
        }
        const labels = chart.buckets.map((b) => format.bucketLabel(b.t, chart.unit));
        const values = chart.buckets.map((b) => byBucket[b.t] || 0);
        this.revenueTable = labels.map((label, i) => ({ label, value: this.money(values[i]) }));
        await this.$nextTick();
        const canvas = this.$refs.revenueChart;
        if (!canvas || !window.Chart) return;
        Chart.getChart(canvas)?.destroy();
        new Chart(canvas, {
          type: "bar",
          data: { labels, datasets: [{ label: "Revenue", data: values, backgroundColor: "#2f6bed", borderRadius: 4 }] },
          options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
        });
      },
    }));
  });
})();
