// The dates the server writes into pages (<time datetime="…" data-format="date|dateTime">), shown
// by the same formatter as every date the scripts draw: one format across all screens. The server's
// text inside the element stays as the fallback without JavaScript.
import * as format from "./format.js";

const FORMATTERS = { date: format.date, dateTime: format.dateTime };

function formatTimes(root) {
  for (const element of root.querySelectorAll("time[data-format]")) {
    const formatter = FORMATTERS[element.dataset.format];
    if (formatter && element.dateTime) element.textContent = formatter(element.dateTime);
  }
}

formatTimes(document);
// Lists refreshed by htmx (search, paging, after a change) bring new dates.
document.addEventListener("htmx:afterSettle", (event) => formatTimes(event.target));
