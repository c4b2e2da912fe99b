// Segments and cohorts: the create/edit dialog (saved filters; a cohort adds an action and a
// date range). What can be checked here is checked before sending, in plain words; the API
// validates the rest.
import * as format from "./format.js";
import { presetRange } from "./view.js";

export function segmentEditor(websiteId, type) {
  return {
    fields: format.FIELDS,
    operators: format.OPERATORS,
    cohortRanges: format.COHORT_RANGES,
    id: null,
    name: "",
    match: "all",
    filters: [],
    action: { type: "path", value: "" },
    dateRange: "30day",
    busy: false,
    error: "",
    suggestions: { path: [], event: [] },
    /** A cohort's page or event: the website's own of the last 90 days, as suggestions. */
    async loadSuggestions() {
      const [start, end] = presetRange("90d");
      const names = (kind) => katsuo
        .api("GET", `/api/websites/${websiteId}/metrics?type=${kind}&startAt=${start.getTime()}&endAt=${end.getTime()}&limit=100`)
        .then((rows) => rows.map((row) => row.x).filter(Boolean), () => []);
      const [path, event] = await Promise.all([names("path"), names("event")]);
      this.suggestions = { path, event };
    },
    open(segment) {
      if (type === "cohort" && !this.suggestions.path.length) this.loadSuggestions();
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
      this.error = "";
      const filters = this.filters.filter((f) => f.value !== "");
      // A segment is its filters: one without any would be everyone, under a name.
      if (type === "segment" && !filters.length) {
        this.error = "Give the segment at least one filter with a value.";
        return;
      }
      this.busy = true;
      const parameters = { filters, match: this.match };
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
  };
}
