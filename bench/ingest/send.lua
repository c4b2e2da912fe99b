-- wrk script: POST /api/send pageviews from many distinct simulated visitors.
-- usage: wrk -t2 -c64 -d20s --latency -s send.lua http://127.0.0.1:3000 -- WEBSITE_ID [N_VISITORS] [SEED] [USE_CACHE] [PATH]
--   WEBSITE_ID  website uuid the events are sent for
--   N_VISITORS  size of the visitor pool (default 50000); visitor v always has the same
--               User-Agent + X-Forwarded-For IP, so it maps to one Umami session per month
--   SEED        PRNG seed (default 1; each wrk thread adds its own offset)
--   USE_CACHE   1 = behave like the real tracker: remember the "cache" token returned by
--               /api/send per visitor (per wrk thread) and send it back as x-umami-cache.
--               0 (default) = never send it (every request does website lookup + session upsert).
--   PATH        request path (default /api/send); the benchmark points it at the no-op route for
--               its same-run baseline.
-- Every request is a pageview; ~10% carry a custom event name + data instead.

local website, nvis, seed, use_cache, path_url
local cache = {}
local last_v = {}   -- connection-less: per-thread FIFO of visitors whose response is pending
local thread_counter = 0

local uas = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.%d Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:%d.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 Edg/124.0.0.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/%d.0 Chrome/115.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPad; CPU OS 17_%d like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
}
local paths = { "/", "/pricing", "/features", "/signup", "/docs", "/blog", "/login", "/about",
  "/docs/getting-started", "/contact", "/blog/post-1", "/blog/post-2", "/blog/post-3",
  "/docs/api", "/changelog", "/integrations", "/docs/page-7?ref=nav", "/?utm_source=newsletter&utm_medium=email&utm_campaign=spring" }
local refs = { "https://www.google.com/", "https://www.bing.com/search?q=analytics", "https://news.ycombinator.com/",
  "https://t.co/abc", "https://github.com/some/repo", "https://example.com/", "https://example.com/pricing", "" }
local langs = { "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "pt-BR", "ja-JP", "zh-CN" }
local screens = { "1920x1080", "1536x864", "390x844", "414x896", "2560x1440", "1366x768", "768x1024" }
local events = { "signup-click", "cta-click", "download", "purchase", "search" }

local function ip_for(v)
  -- deterministic public-looking IPv4 per visitor (only ever used as a header value)
  local a = 1 + (v * 7919) % 222
  if a == 10 or a == 100 or a == 127 or a == 169 or a == 172 or a == 192 then a = a + 1 end
  local b = (v * 104729) % 256
  local c = (v * 1299709) % 256
  local d = 1 + (v % 254)
  return a .. "." .. b .. "." .. c .. "." .. d
end

local function ua_for(v)
  local t = uas[(v % #uas) + 1]
  return string.format(t, 100 + (math.floor(v / #uas) % 25))
end

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("tid", thread_counter)
end

function init(args)
  website = args[1] or error("WEBSITE_ID argument required")
  nvis = tonumber(args[2] or "50000")
  seed = tonumber(args[3] or "1")
  use_cache = (args[4] == "1")
  path_url = args[5] or "/api/send"
  math.randomseed(seed * 1000 + (tid or 0))
end

function request()
  local v = math.random(1, nvis)
  local path = paths[math.random(1, #paths)]
  local ref = refs[math.random(1, #refs)]
  local extra = ""
  if math.random() < 0.10 then
    extra = string.format(',"name":"%s","data":{"plan":"pro","value":%d}', events[math.random(1, #events)], math.random(1, 500))
  end
  local body = string.format(
    '{"type":"event","payload":{"website":"%s","hostname":"example.com","url":"%s","referrer":"%s","language":"%s","screen":"%s","title":"Example page %s"%s}}',
    website, path, ref, langs[(v % #langs) + 1], screens[(v % #screens) + 1], path, extra)
  local headers = {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = ua_for(v),
    ["X-Forwarded-For"] = ip_for(v),
  }
  if use_cache then
    if cache[v] then headers["x-umami-cache"] = cache[v] end
    table.insert(last_v, v)
  end
  return wrk.format("POST", path_url, headers, body)
end

function response(status, headers, body)
  if use_cache then
    -- wrk has no per-request context: responses on one thread arrive roughly in request order,
    -- a mismatch only means a visitor occasionally sends another visitor's (valid) token.
    local v = table.remove(last_v, 1)
    if v and status == 200 then
      local tok = body:match('"cache":"([^"]+)"')
      if tok then cache[v] = tok end
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("RESULT_LAT_MS p50=%.2f p90=%.2f p99=%.2f p999=%.2f max=%.2f mean=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000, latency.mean / 1000))
end
