/* Katsuo's browser tracker: page views, SPA navigation, custom events, identify and web vitals,
 * posted to the collect endpoint of the Katsuo (or Umami) server. Behaviour: the Umami tracker
 * contract (docs "Tracker configuration", "Tracker functions"; in this repository
 * docs/collection.md#the-tracker-script).
 *
 * The server fills in the three quoted placeholders of the endpoint when it serves the file
 * (katsuo/web/tracker/build.py): COLLECT_API_HOST, COLLECT_API_ENDPOINT, and that endpoint as a
 * path relative to where this script was served, used when no host is configured. */
((win) => {
  const doc = win.document;
  const script = doc.currentScript;
  // Without its own <script> element the tracker cannot read its configuration (ES modules,
  // some injection methods): it then stays silent, as the reference tracker does.
  if (!script) return;

  const loc = win.location;
  const nav = win.navigator;
  const setting = (name) => script.getAttribute("data-" + name);
  const enabled = (name) => setting(name) == "true";

  const website = setting("website-id");
  const tag = setting("tag") || undefined;
  const domains = setting("domains");
  const beforeSend = setting("before-send");
  const credentials = setting("fetch-credentials") || "omit";
  const respectDnt = enabled("do-not-track");
  const excludeSearch = enabled("exclude-search");
  const excludeHash = enabled("exclude-hash");
  const host = setting("host-url") || "__KATSUO_COLLECT_HOST__";
  const endpoint = host
    ? host.replace(/\/$/, "") + "__KATSUO_COLLECT_PATH__"
    : new URL("__KATSUO_COLLECT_RELATIVE__", script.src).href;
  const screenSize = screen.width + "x" + screen.height;
  const EVENT = "data-umami-event";

  let storage;
  try {
    // Opaque origins (data: URLs) throw or share nothing: the opt-out flag cannot apply there.
    storage = loc.protocol != "data:" && win.localStorage;
  } catch (e) {}

  let started, serverDisabled, cache, identity, flushVitals;

  const normalize = (raw) => {
    if (!raw) return raw;
    try {
      const url = new URL(raw, loc.href);
      if (excludeSearch) url.search = "";
      if (excludeHash) url.hash = "";
      return url.href;
    } catch (e) {
      return raw;
    }
  };

  let currentUrl = normalize(loc.href);
  // A referrer from our own origin is a reload or an internal link, not a source of traffic.
  let currentReferrer = normalize(doc.referrer.indexOf(loc.origin) ? doc.referrer : "");

  const doNotTrack = () => {
    const value = win.doNotTrack || nav.doNotTrack || nav.msDoNotTrack;
    return value == 1 || value == "yes";
  };

  const optedOut = () => {
    try {
      return storage && storage.getItem("umami.disabled");
    } catch (e) {}
  };

  const silenced = () =>
    serverDisabled ||
    !website ||
    optedOut() ||
    (domains && domains.split(",").every((name) => name.trim() != loc.hostname)) ||
    (respectDnt && doNotTrack());

  const defaults = () => ({
    website,
    screen: screenSize,
    language: nav.language,
    title: doc.title,
    hostname: loc.hostname,
    url: currentUrl,
    referrer: currentReferrer,
    tag,
    id: identity || undefined,
  });

  const send = async (payload, type = "event") => {
    if (silenced()) return;
    const hook = win[beforeSend];
    if (typeof hook == "function") payload = await hook(type, payload);
    if (!payload) return;
    const headers = { "Content-Type": "application/json" };
    if (cache) headers["x-umami-cache"] = cache;
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        keepalive: true,
        credentials,
        headers,
        body: JSON.stringify({ type, payload }),
      });
      const answer = await response.json();
      if (answer) {
        serverDisabled = answer.disabled;
        // A reply without a token (e.g. the bot answer) deliberately forgets the old one.
        cache = answer.cache;
      }
    } catch (e) {}
  };

  const track = (name, data) =>
    send(
      typeof name == "string"
        ? { ...defaults(), name, data }
        : typeof name == "function"
          ? name(defaults())
          : name && typeof name == "object"
            ? { ...name }
            : defaults(),
    );

  const identify = (id, data) => {
    if (typeof id == "string") identity = id;
    // The token names the anonymous session; dropping it makes the server create the
    // identified one.
    cache = "";
    return send({ ...defaults(), data: typeof id == "object" ? id : data }, "identify");
  };

  const trackElement = (element) => {
    const data = {};
    for (const name of element.getAttributeNames()) {
      const key = name.match(/^data-umami-event-([\w-]+)/);
      if (key) data[key[1]] = element.getAttribute(name);
    }
    return track(element.getAttribute(EVENT), data);
  };

  const onClick = (click) => {
    const target = click.target;
    const control = target.closest("a,button");
    if (!control) return target.getAttribute(EVENT) && trackElement(target);
    if (!control.getAttribute(EVENT)) return;
    if (control.tagName == "BUTTON") return trackElement(control);
    const href = control.href;
    if (control.tagName != "A" || !href) return;
    const newWindow =
      control.target == "_blank" ||
      click.ctrlKey ||
      click.shiftKey ||
      click.metaKey ||
      click.button == 1;
    // Leaving the page would cancel the request: hold the navigation until the event is stored.
    if (!newWindow) click.preventDefault();
    trackElement(control).then(() => {
      if (!newWindow) (control.target == "_top" ? top.location : loc).href = href;
    });
  };

  const onNavigate = (url) => {
    if (flushVitals) flushVitals();
    currentReferrer = currentUrl;
    currentUrl = normalize(new URL(url, loc.href).href);
    // The delay gives the application time to update document.title for the new route.
    if (currentUrl != currentReferrer) setTimeout(track, 300);
  };

  const wrapHistory = (method) => {
    const original = history[method];
    history[method] = function (state, title, url) {
      if (url) onNavigate(url);
      return original.apply(history, arguments);
    };
  };

  // Web vitals, one "performance" beacon per page or SPA route
  // (docs/collection.md#the-tracker-script).
  const watchVitals = () => {
    let metrics, sent, timer, shiftTotal, shiftFirst, shiftLast, interactions;
    let firstPage = 1;
    let activation = 0;
    let routeStart = 0;
    const since = (time) => Math.max(time - activation, 0);

    const take = (entry) => {
      const type = entry.entryType;
      const time = entry.startTime;
      if (type == "navigation") {
        activation = entry.activationStart || 0;
        metrics.ttfb = since(entry.responseStart);
      } else if (type == "paint") {
        if (entry.name == "first-contentful-paint") metrics.fcp = since(time);
      } else if (type == "largest-contentful-paint") {
        metrics.lcp = since(time);
      } else if (type == "layout-shift") {
        if (entry.hadRecentInput) return;
        // Shifts less than 1 s apart form a window of at most 5 s; CLS is the worst window.
        if (shiftLast != null && time - shiftLast < 1e3 && time - shiftFirst < 5e3) {
          shiftTotal += entry.value;
        } else {
          shiftTotal = entry.value;
          shiftFirst = time;
        }
        shiftLast = time;
        if (shiftTotal > (metrics.cls || 0)) metrics.cls = shiftTotal;
      } else if (entry.interactionId) {
        const id = entry.interactionId;
        interactions[id] = Math.max(interactions[id] || 0, entry.duration);
        const slowest = Object.values(interactions).sort((a, b) => b - a);
        // The 98th percentile, which is the worst interaction until there are 50 of them.
        metrics.inp = slowest[Math.floor(Math.max(slowest.length, 10) * 0.02)];
      }
    };

    const report = () => {
      if (sent) return;
      sent = 1;
      clearTimeout(timer);
      // Observer callbacks run late; an early report reads what the timeline already holds.
      if (firstPage) {
        for (const type of ["navigation", "paint"]) performance.getEntriesByType(type).forEach(take);
      }
      metrics.duration = Math.round(performance.now() - routeStart);
      send({ ...defaults(), ...metrics }, "performance");
    };

    const reset = () => {
      metrics = {};
      interactions = {};
      sent = shiftLast = null;
      timer = setTimeout(report, 1e4);
    };

    flushVitals = () => {
      report();
      firstPage = activation = 0;
      routeStart = performance.now();
      reset();
    };

    reset();
    for (const type of ["navigation", "paint", "largest-contentful-paint", "layout-shift", "event"]) {
      try {
        new PerformanceObserver((list) => list.getEntries().forEach(take)).observe({
          type,
          buffered: true,
          durationThreshold: 40,
        });
      } catch (e) {}
    }
    doc.addEventListener("visibilitychange", () => doc.hidden && report());
    win.addEventListener("pagehide", report);
  };

  const start = () => {
    if (started) return;
    started = 1;
    track();
    wrapHistory("pushState");
    wrapHistory("replaceState");
    doc.addEventListener("click", onClick, true);
    if (enabled("performance")) watchVitals();
  };

  if (!win.umami) win.umami = { track, identify, getSession: () => ({ cache, website }) };

  if (setting("auto-track") != "false" && !silenced()) {
    if (doc.readyState == "complete") start();
    else doc.addEventListener("readystatechange", start, true);
  }
})(window);
