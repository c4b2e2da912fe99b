// Katsuo dashboard behaviour: the theme, JSON calls to the API (which owns every rule), forms and
// buttons that send them, copy-to-clipboard, and the login/logout dance with the session cookie.
(() => {
  const root = document.documentElement;
  const base = root.dataset.base || "";
  const csrfHeader = root.dataset.csrf || "x-katsuo-csrf";

  /** Call the JSON API (or a page endpoint) under BASE_PATH; resolves to the JSON body, throws an
   *  Error carrying the API's message on any non-2xx answer. */
  async function api(method, path, body) {
    const headers = { Accept: "application/json", [csrfHeader]: "1" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(base + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const error = new Error(data?.error?.message || `Request failed (${response.status})`);
      error.status = response.status;
      error.fields = data?.error?.errors || []; // [{field, message}] of a 400
      throw error;
    }
    return data;
  }

  /** A form's fields as a JSON object: empty fields are left out (or sent as null with
   *  data-empty="null"), checkboxes become booleans, data-type="number" fields numbers. */
  function formJson(form) {
    const body = {};
    for (const field of form.elements) {
      if (!field.name || field.disabled || field.type === "submit" || field.type === "button") continue;
      if (field.type === "checkbox") {
        body[field.name] = field.checked;
      } else if (field.value === "") {
        if (field.dataset.empty === "null") body[field.name] = null;
      } else if (field.dataset.type === "number") {
        body[field.name] = Number(field.value);
      } else {
        body[field.name] = field.value;
      }
    }
    return body;
  }

  // The validation library's sentences, as a person would say them.
  const PLAIN = [
    [/^Value error, /, ""],
    [/^Field required$/, "is required"],
    [/^String should have at least (\d+) characters?$/, "needs at least $1 characters"],
    [/^String should have at most (\d+) characters?$/, "can have at most $1 characters"],
    [/^Input should be a valid (\w+)$/, "is not a valid $1"],
  ];
  const plain = (message) => PLAIN.reduce((text, [pattern, words]) => text.replace(pattern, words), String(message));

  /** Puts the API's complaints about named fields next to those fields of `form`, in the form's
   *  own words ("Domain: …" rather than "domain: …"), and returns the sentence for the form's
   *  alert; anything not about one of its fields keeps the API's message. */
  function showFieldErrors(form, error) {
    for (const old of form.querySelectorAll(".field-error[data-for]")) old.remove();
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    if (!error) return "";
    const sentences = [];
    let unplaced = false;
    for (const { field, message } of error?.fields || []) {
      const input = field && form.elements.namedItem(field);
      if (!(input instanceof HTMLElement)) { unplaced = true; continue; }
      const label = input.labels?.[0]?.textContent.trim() || field;
      const text = plain(message);
      const note = Object.assign(document.createElement("p"), { className: "field-error", textContent: text.charAt(0).toUpperCase() + text.slice(1) });
      note.dataset.for = field;
      note.id = `${input.id || field}-error`;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
      input.after(note);
      sentences.push(`${label}: ${text}`);
    }
    return sentences.length && !unplaced ? [...new Set(sentences)].join(" ") : error.message;
  }

  function toast(message) {
    const note = document.createElement("div");
    note.className = "toast";
    note.setAttribute("role", "status");
    note.textContent = message;
    document.body.appendChild(note);
    setTimeout(() => note.remove(), 2200);
  }

  /** What happens after a successful call: "reload", "redirect:/path/{id}" (filled from the
   *  answer), or "event:name" (closes the dialog and lets htmx panels listening for it refresh). */
  function proceed(then, result, element) {
    if (!then || then === "stay") return;
    if (then === "reload") {
      location.reload();
    } else if (then.startsWith("redirect:")) {
      const target = then.slice(9).replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(result?.[key] ?? ""));
      location.assign(base + target);
    } else if (then.startsWith("event:")) {
      element.closest("dialog")?.close();
      if (element.tagName === "FORM") element.reset();
      htmx.trigger(document.body, then.slice(6));
    }
  }

  function randomSlug(length = 16) {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
  }

  function applyTheme(theme) {
    if (theme === "light" || theme === "dark") root.dataset.theme = theme;
    else delete root.dataset.theme;
  }

  document.addEventListener("alpine:init", () => {
    /* A form sent to the API: x-data="apiForm({method, url, then})"; url may use {field}. */
    Alpine.data("apiForm", (options) => ({
      busy: false,
      error: "",
      result: null,
      init() {
        // What the form itself can tell (the browser checks it before submitting), beside the
        // field as the API's complaints are.
        const form = this.$el.closest("form");
        form?.addEventListener("invalid", () => {
          const fields = [...form.elements].filter((el) => el.name && el.validity && !el.validity.valid)
            .map((el) => ({ field: el.name, message: el.validity.patternMismatch && el.title ? el.title : el.validationMessage }));
          this.error = showFieldErrors(form, { fields, message: "" });
        }, true);
      },
      async submit() {
        const form = this.$el.closest("form");
        if (!form.reportValidity()) return;
        this.busy = true;
        this.error = "";
        try {
          let body = formJson(form);
          if (options.wrap) body = options.wrap(body);
          const url = options.url.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(body[key] ?? ""));
          this.result = await api(options.method || "POST", url, body);
          if (options.notice) toast(options.notice);
          showFieldErrors(form, null);
          proceed(options.then, this.result, form);
        } catch (error) {
          this.error = showFieldErrors(form, error);
        } finally {
          this.busy = false;
        }
      },
    }));

    /* A button sending one request: x-data="apiAction({method, url, body, then})"; run(body)
     *  may pass the body when it is only known at click time. */
    Alpine.data("apiAction", (options) => ({
      busy: false,
      error: "",
      async run(body = options.body) {
        this.busy = true;
        this.error = "";
        try {
          const result = await api(options.method || "POST", options.url, body);
          if (options.notice) toast(options.notice);
          proceed(options.then, result, this.$el);
        } catch (error) {
          this.error = error.message;
        } finally {
          this.busy = false;
        }
      },
    }));

    Alpine.data("copyable", () => ({
      async copy(text) {
        try {
          await navigator.clipboard.writeText(text);
        } catch (_) {
          // Clipboard API refused (e.g. plain http): fall back to a selected hidden field.
          const area = Object.assign(document.createElement("textarea"), { value: text });
          document.body.appendChild(area);
          area.select();
          document.execCommand("copy");
          area.remove();
        }
        toast("Copied to clipboard");
      },
    }));

    /* The share URL of a website: on/off and regenerate, through the website's shareId. */
    Alpine.data("shareUrl", (websiteId, slug) => ({
      slug,
      busy: false,
      error: "",
      get url() {
        return this.slug ? `${location.origin}${base}/share/${this.slug}` : "";
      },
      async save(next) {
        this.busy = true;
        this.error = "";
        try {
          const website = await api("POST", `/api/websites/${websiteId}`, { shareId: next });
          this.slug = website.shareId;
        } catch (error) {
          this.error = error.message;
        } finally {
          this.busy = false;
        }
      },
      toggle(on) {
        return this.save(on ? randomSlug() : null);
      },
      regenerate() {
        return this.save(randomSlug());
      },
    }));

    Alpine.data("login", (next) => ({
      username: "",
      password: "",
      busy: false,
      error: "",
      async submit() {
        this.busy = true;
        this.error = "";
        try {
          const { token } = await api("POST", "/api/auth/login", {
            username: this.username,
            password: this.password,
          });
          await api("POST", "/session", { token });
          location.assign(pageUnderBase(next));
        } catch (error) {
          this.error = error.status === 401 ? "Incorrect username or password." : error.message;
          this.busy = false;
        }
      },
    }));

    Alpine.data("themeToggle", () => ({
      dark: false,
      init() {
        this.dark = root.dataset.theme
          ? root.dataset.theme === "dark"
          : matchMedia("(prefers-color-scheme: dark)").matches;
      },
      toggle() {
        this.dark = !this.dark;
        const theme = this.dark ? "dark" : "light";
        localStorage.setItem("katsuo.theme", theme);
        applyTheme(theme);
        // Charts and maps paint with resolved colours: they redraw in the new theme.
        window.dispatchEvent(new CustomEvent("katsuo:theme"));
      },
    }));
  });

  /** `target` if the browser would resolve it to a page of this server under BASE_PATH, else the
   *  websites list: the server checks ?next= too, this guards what the page itself follows. */
  function pageUnderBase(target) {
    const fallback = base + "/websites";
    let url;
    try {
      url = new URL(target, location.origin);
    } catch (_) {
      return fallback;
    }
    if (url.origin !== location.origin || !(url.pathname + "/").startsWith(base + "/")) return fallback;
    return url.pathname + url.search + url.hash;
  }

  // Website icons that fail to load (data-hide-broken) leave an empty space, not a broken image;
  // "error" does not bubble, hence the capture, and an icon that failed before this ran is found
  // once the page is parsed.
  function hideBroken(image) {
    if (image instanceof HTMLImageElement && image.matches("[data-hide-broken]")) image.style.visibility = "hidden";
  }
  document.addEventListener("error", (event) => hideBroken(event.target), true);
  document.addEventListener("DOMContentLoaded", () => {
    for (const image of document.querySelectorAll("img[data-hide-broken]")) {
      if (image.complete && image.naturalWidth === 0) hideBroken(image);
    }
  });

  async function logout() {
    try {
      await api("POST", "/api/auth/logout");
    } catch (_) {
      // An already dead login still needs its cookie cleared.
    }
    await api("DELETE", "/session");
    location.assign(base + "/login");
  }

  // htmx requests (panels, search, paging) carry the CSRF header like every other call.
  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers[csrfHeader] = "1";
  });

  /** A URL as visitors use it: paths under this server get the page's origin. */
  function absolute(url) {
    return url.startsWith("/") ? location.origin + url : url;
  }

  window.katsuo = { api, base, logout, toast, randomSlug, absolute, pageUnderBase };
})();
