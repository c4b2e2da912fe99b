// The website screens' components (overview, realtime, sessions and events, a visitor, segments
// and cohorts), registered with Alpine before it starts; each lives in its own module under js/.
import { activityList, visitorProfile } from "./js/activity.js";
import { drawWorldMap } from "./js/charts.js";
import * as format from "./js/format.js";
import { dashboard } from "./js/overview.js";
import { realtime } from "./js/realtime.js";
import { segmentEditor } from "./js/segments.js";
import { presetRange, RANGES } from "./js/view.js";

// What the report editor (reports.js, a classic script) reads.
window.katsuoRanges = { presetRange, RANGES };
window.katsuoFilters = { FILTER_FIELDS: format.FIELDS, OPERATORS: format.OPERATORS };
window.katsuoMap = { draw: drawWorldMap };
window.katsuoFormat = format;
/** A value as people name it: katsuoName("browser", "chrome") → "Chrome". */
window.katsuoName = format.name;

document.addEventListener("alpine:init", () => {
  Alpine.data("dashboard", dashboard);
  Alpine.data("realtime", realtime);
  Alpine.data("activityList", activityList);
  Alpine.data("visitorProfile", visitorProfile);
  Alpine.data("segmentEditor", segmentEditor);
});
