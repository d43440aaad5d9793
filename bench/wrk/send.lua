-- wrk script for write benchmarks: one request per line of BENCH_ROWS, round-robin.
--
-- A line is "<METHOD>\t<path>\t<header: value>|<header: value>...\t<body>". In the body, every
-- "@UUID@" becomes a fresh random UUID (so each statement sent has an id of its own).
-- BENCH_HOST: the Host header. BENCH_MAXREQ: cap on requests per thread.
-- done() prints "WRKJSON {...}" like rotate.lua; "non2xx" counts answers outside 200-299.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local rows, i, maxreq, host
seen = 0
non2xx = 0
last_bad = 0

local function split(text, sep)
  local parts = {}
  for piece in string.gmatch(text, "([^" .. sep .. "]+)") do parts[#parts + 1] = piece end
  return parts
end

function init(args)
  rows = {}
  for line in io.lines(os.getenv("BENCH_ROWS")) do
    local method, path, hdrs, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]*)\t(.*)$")
    if method then
      local h = {}
      for _, pair in ipairs(split(hdrs, "|")) do
        local name, value = pair:match("^([^:]+): (.*)$")
        if name then h[name] = value end
      end
      rows[#rows + 1] = {method = method, path = path, headers = h, body = body}
    end
  end
  host = os.getenv("BENCH_HOST") or "127.0.0.1"
  maxreq = tonumber(os.getenv("BENCH_MAXREQ") or "200000")
  i = (tid or 0) * 7
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

local function uuid()
  local template = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (template:gsub("[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

function request()
  i = i + 1
  local r = rows[(i % #rows) + 1]
  local h = {["Host"] = host, ["User-Agent"] = "wrk-bench"}
  for name, value in pairs(r.headers) do h[name] = value end
  local body = r.body:gsub("@UUID@", uuid)
  return wrk.format(r.method, r.path, h, body)
end

function response(status, hdrs, body)
  seen = seen + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    last_bad = status
  end
  if seen >= maxreq then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad, bad_status = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (tonumber(t:get("non2xx")) or 0)
    local s = tonumber(t:get("last_bad")) or 0
    if s ~= 0 then bad_status = s end
  end
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"bytes":%d,"p50_ms":%.2f,"p90_ms":%.2f,' ..
    '"p95_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"mean_ms":%.2f,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"non2xx":%d,"last_bad_status":%d}\n',
    summary.requests, s, summary.requests / s, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, bad, bad_status))
end
