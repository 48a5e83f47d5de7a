-- Manifold's bench: one fixed request, configured from the environment by bench/wrk.py.
--   BENCH_METHOD     GET or POST
--   BENCH_BODY_FILE  file holding the request body (optional)
--   BENCH_HEADERS    "Name: value" lines (optional)
-- Counts non-2xx answers and 2xx answers carrying "errors", and prints one line
-- "BENCHJSON {...}" with the totals and latency percentiles (microseconds) at the end.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local handle = assert(io.open(body_file, "rb"))
  wrk.body = handle:read("*a")
  handle:close()
end
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

non2xx = 0
failed = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif body and string.find(body, '"errors"', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local bad, errors = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    errors = errors + thread:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,'
      .. '"graphql_errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, errors, e.connect + e.read + e.write + e.timeout))
end
