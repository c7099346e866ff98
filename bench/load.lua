-- wrk script of bench/load.py: POST the JSON body stored in the file named by the first
-- argument, then print the run's figures as one JSON line prefixed with BENCH_JSON.
-- With "lines" as the second argument the file holds one body per line, and the requests go
-- through them in turn (round-robin from the first, whatever connection sends them).
-- With "unique" the lines are templates, gone through in turn likewise, and every "@N@" in a
-- template is replaced by the request's serial number: no two requests send the same body
-- (wrk runs with one thread, so one counter numbers them all). A third argument, a number,
-- is where the numbering starts, so that runs one after the other send new bodies too.
-- With "get" as the only argument, the URL is asked with GET as it is.

function init(args)
  -- "get": wrk's own GET of the URL on its command line (headers from -H).
  if args[1] == "get" then
    return
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local file = assert(io.open(args[1], "rb"))
  if args[2] ~= "lines" and args[2] ~= "unique" then
    wrk.body = file:read("*a")
    file:close()
    return
  end
  local lines = {}
  for line in file:lines() do
    if #line > 0 then
      lines[#lines + 1] = line
    end
  end
  file:close()
  assert(#lines > 0, "no request bodies in " .. args[1])
  if args[2] == "unique" then
    -- Formatted per request (a global `request`, as below): each body is new.
    local serial = tonumber(args[3] or "0")
    request = function()
      serial = serial + 1
      local template = lines[(serial - 1) % #lines + 1]
      return wrk.format(nil, nil, nil, (template:gsub("@N@", tostring(serial))))
    end
    return
  end
  -- Each request is formatted once, here; request() only hands the next one out.
  local requests = {}
  for i, line in ipairs(lines) do
    requests[i] = wrk.format(nil, nil, nil, line)
  end
  local count, last = #requests, 0
  -- A global `request` makes wrk ask for every request instead of resending one.
  request = function()
    last = last % count + 1
    return requests[last]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
