-- wrk script for the Kalan / Kolibri side-by-side benchmark (bench/foundation.py).
--
-- Without BENCH_ROWS: a plain GET of the URL given on the wrk command line.
-- With BENCH_ROWS=<file>: one request per line of the file, round-robin, each thread starting at
--   its own offset. A line is "<path>\t<Cookie header>", so 40 logged-in learners are rotated
--   (every request carries a different learner's session cookie than the one before it).
-- BENCH_HOST: the Host header (e.g. 127.0.0.1:18081).
-- BENCH_MAXREQ: hard cap on requests per thread (wrk -d bounds the time; this bounds the count).
-- BENCH_STRIDE=<n>: thread t sends rows t, t+n, t+2n... instead (n = the number of threads), so
--   that no row is sent twice before the file has gone round once (to miss a response cache).
--
-- done() prints one line "WRKJSON {...}" with req/s, latency percentiles (ms), error counters
-- and the number of responses whose status was not 200 (a 302 to the sign-in page would not be
-- counted as an error by wrk itself, so this is checked here).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local rows, i, maxreq, host, stride
seen = 0
non200 = 0
last_bad = 0

function init(args)
  rows = {}
  local f = os.getenv("BENCH_ROWS")
  if f and f ~= "" then
    for line in io.lines(f) do
      local p, c = line:match("^([^\t]+)\t(.*)$")
      if p then rows[#rows + 1] = {path = p, cookie = c} end
    end
  end
  host = os.getenv("BENCH_HOST") or "127.0.0.1"
  maxreq = tonumber(os.getenv("BENCH_MAXREQ") or "200000")
  stride = tonumber(os.getenv("BENCH_STRIDE") or "0")
  if stride > 0 then
    i = (tid or 0) - stride
  else
    i = (tid or 0) * 7
  end
end

local function headers(cookie)
  local h = {
    ["Host"] = host,
    ["Accept"] = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    ["Accept-Encoding"] = "gzip, deflate, br",
    ["User-Agent"] = "wrk-bench",
  }
  if cookie and cookie ~= "" then h["Cookie"] = cookie end
  return h
end

function request()
  if #rows == 0 then
    return wrk.format("GET", wrk.path, headers(nil))
  end
  i = i + (stride > 0 and stride or 1)
  local r = rows[(i % #rows) + 1]
  return wrk.format("GET", r.path, headers(r.cookie))
end

function response(status, hdrs, body)
  seen = seen + 1
  if status ~= 200 then
    non200 = non200 + 1
    last_bad = status
  end
  if seen >= maxreq then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad, bad_status = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (tonumber(t:get("non200")) or 0)
    local s = tonumber(t:get("last_bad")) or 0
    if s ~= 0 then bad_status = s end
  end
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"bytes":%d,"p50_ms":%.2f,"p90_ms":%.2f,' ..
    '"p95_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"mean_ms":%.2f,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"non200":%d,"last_non200_status":%d}\n',
    summary.requests, s, summary.requests / s, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, bad, bad_status))
end
