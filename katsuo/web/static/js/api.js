// The JSON API of one website, logged in (the session cookie, through katsuo.api) or on a share
// URL (the share's token, asked for again when it expires or is refused).

/** `websiteApi(id, shareSlug)` → `{ get(path, params), resolveShare() }`; `get` reads
 *  /api/websites/<id><path>?<params>. */
export function websiteApi(websiteId, shareSlug = null) {
  let token = null;
  let pending = null;
  const state = { gone: false, published: {} };

  /** The slug's token and the sections the share publishes; concurrent callers share one
   *  request. False once the share is gone. */
  function resolveShare() {
    pending ||= fetch(`${katsuo.base}/api/share/${encodeURIComponent(shareSlug)}`)
      .then(async (response) => {
        const shared = response.ok ? await response.json() : null;
        token = shared?.token || null;
        state.gone = !token;
        state.published = shared?.parameters || {};
        return !state.gone;
      })
      .finally(() => { pending = null; });
    return pending;
  }

  async function sharedGet(url, retry = true) {
    if (state.gone) throw new Error("This share is no longer available.");
    const used = token;
    const response = await fetch(katsuo.base + url, {
      headers: { "x-umami-share-token": used, "x-umami-share-context": "1" },
    });
    if (response.status === 401 && retry) {
      // Expired, or the share changed: a fresh token from the slug, then once more.
      if (token === used) await resolveShare();
      return sharedGet(url, false);
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error(data?.error?.message || `Request failed (${response.status})`);
    return data;
  }

  function get(path, params = "") {
    const query = String(params);
    const url = `/api/websites/${websiteId}${path}${query ? `?${query}` : ""}`;
    return shareSlug ? sharedGet(url) : katsuo.api("GET", url);
  }

  // The token is the share's to manage; reading and replacing it is for tests of its renewal.
  const tokenAccess = { get: () => token, set: (value) => { token = value; } };
  return { get, resolveShare, state, token: tokenAccess };
}
