-- wrk.lua: drives one scenario of cmd/bench. cmd/bench generates the scenario's requests into a file, runs
--   wrk -t<threads> ... -s wrk.lua <url> -- <requests file> <threads>
-- and reads the line starting with "bench-result " that done() prints.
--
-- The requests file holds, for each request: "<method> <path> <header count> <body length>\n", then one
-- "Name: value\n" line per header, then the body and "\n".

local threads = {}

-- setup runs in wrk's main environment, once per thread and before that thread's init: it numbers the threads
-- so that each takes its own share of the requests, and keeps them for done().
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function parse(data)
  local list, pos = {}, 1
  while pos <= #data do
    local _, e, method, path, nheaders, length = data:find("^(%S+) (%S+) (%d+) (%d+)\n", pos)
    assert(e, "requests file: malformed request line at byte " .. pos)
    pos = e + 1
    local headers = {}
    for _ = 1, tonumber(nheaders) do
      local _, he, name, value = data:find("^([^:\n]+): ([^\n]*)\n", pos)
      assert(he, "requests file: malformed header at byte " .. pos)
      headers[name] = value
      pos = he + 1
    end
    length = tonumber(length)
    local body = nil
    if length > 0 then
      body = data:sub(pos, pos + length - 1)
    end
    pos = pos + length + 1
    list[#list + 1] = { method = method, path = path, headers = headers, body = body }
  end
  return list
end

local requests, sent = {}, 0
repeated = 0 -- read by done() through thread:get

-- init formats this thread's share (every nth request, so that threads never send the same one) once, up front:
-- building requests while the clock runs would cost the load generator CPU the server needs. A list shorter
-- than the thread count (a scenario of one request) is shared.
function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  assert(file and nthreads, "usage: wrk ... -s wrk.lua <url> -- <requests file> <threads>")
  local f = assert(io.open(file, "rb"))
  local all = parse(f:read("*a"))
  f:close()
  assert(#all > 0, "requests file: no requests")
  for i = id % #all + 1, #all, nthreads do
    local r = all[i]
    requests[#requests + 1] = wrk.format(r.method, r.path, r.headers, r.body)
  end
end

-- request cycles through the share; it counts the requests that reuse one, which a scenario whose requests must
-- be unique reports.
function request()
  sent = sent + 1
  if sent > #requests then
    repeated = repeated + 1
  end
  return requests[(sent - 1) % #requests + 1]
end

function done(summary, latency, _)
  local e = summary.errors
  local total = 0
  for _, t in ipairs(threads) do
    total = total + t:get("repeated")
  end
  io.write(string.format(
    'bench-result {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"socket_errors":%d,"status_errors":%d,"repeated":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, total))
end
