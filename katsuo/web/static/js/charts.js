// The one Chart.js setup of the pages: theme colours, bar charts over the server's buckets, and
// the world map. Charts are drawn from what the server answers; nothing here invents buckets.
import * as format from "./format.js";

/** A theme colour as the browser resolved it (the variables hold light-dark() pairs). */
export function css(name) {
  const probe = document.createElement("span");
  probe.style.color = `var(${name})`;
  document.body.appendChild(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color;
}

// Axis labels are the formatter's, like every date of the pages.
export { bucketDate, bucketLabel } from "./format.js";

/** A bar chart on `canvas` (any chart it held is replaced). `stacked`: stack every dataset. */
export function barChart(canvas, labels, datasets, { stacked = false } = {}) {
  if (!canvas || !window.Chart) return null;
  Chart.getChart(canvas)?.destroy();
  return new Chart(canvas, {
    type: "bar",
    data: { labels, datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { labels: { color: css("--muted"), boxWidth: 12 } } },
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { color: css("--muted"), maxRotation: 0, autoSkipPadding: 12 } },
        y: { stacked, beginAtZero: true, grid: { color: css("--border") }, ticks: { color: css("--muted"), precision: 0 } },
      },
    },
  });
}

export const PALETTE = ["#2f6bed", "#7c5cff", "#12a37f", "#e8a317", "#e5484d", "#0ea5e9", "#d946ef", "#64748b"];

/** The countries of world-atlas, each with its alpha-2 code (the API's country values) and the
 *  name the pages use for it, fetched once per page. */
let shapesPromise = null;
function worldShapes(urls) {
  shapesPromise ||= Promise.all([fetch(urls.topology).then((r) => r.json()), fetch(urls.codes).then((r) => r.json())]).then(([topology, codes]) => {
    const alpha2 = Object.fromEntries(codes.map(([a2, , numeric]) => [numeric, a2]));
    return ChartGeo.topojson.feature(topology, topology.objects.countries).features
      .filter((feature) => feature.properties.name !== "Antarctica")
      .map((feature) => {
        const code = alpha2[feature.id] || "";
        return { feature, code, name: code ? format.name("country", code) : feature.properties.name };
      });
  });
  return shapesPromise;
}

/** A choropleth of `counts` (alpha-2 code → visitors) on `canvas`; a click on a country with
 *  visitors calls `onPick(code)`. */
export async function drawWorldMap(canvas, urls, counts, onPick) {
  if (!canvas || !window.ChartGeo) return;
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
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => `${ctx.chart.data.labels[ctx.dataIndex]}: ${format.number(ctx.raw.value || 0)}` } } },
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
