-- The load generator's script for bench/run (one wrk thread): POSTs the body in $BENCH_BODY with the
-- headers in $BENCH_HEADERS ("Name: value" lines), keeps every $BENCH_SAMPLE-th successful response body in
-- $BENCH_SAMPLES (one per line, for openssl verify), and prints one JSON line of results at the end.
-- With $BENCH_BODIES (a file of one body a line) set instead of $BENCH_BODY, POSTs those bodies in turn.
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk_report.lua")
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
for line in slurp(os.getenv("BENCH_HEADERS")):gmatch("[^\n]+") do
  local k, v = line:match("^([^:]+):%s*(.*)$")
  if k then wrk.headers[k] = v end
end
local many = os.getenv("BENCH_BODIES")
if many and #many > 0 then
  -- every request built once, in init (after wrk has set the Host header), so that turning through them
  -- costs one table lookup each
  local reqs, i = {}, 0
  init = function()
    for body in slurp(many):gmatch("[^\n]+") do
      reqs[#reqs + 1] = wrk.format("POST", nil, nil, body)
    end
    assert(#reqs > 0, "no bodies in " .. many)
  end
  request = function()
    i = i % #reqs + 1
    return reqs[i]
  end
else
  wrk.body = slurp(os.getenv("BENCH_BODY"))
end

local every = tonumber(os.getenv("BENCH_SAMPLE") or "0")
local out = every > 0 and assert(io.open(os.getenv("BENCH_SAMPLES"), "wb")) or nil
local ok, bad = 0, 0

response = function(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    -- a raw newline can only sit between JSON tokens, where a space means the same
    if out and ok % every == 1 then out:write((body:gsub("\n", " ")), "\n") end
  else
    bad = bad + 1
    if bad == 1 then io.stderr:write("first failure: ", status, " ", body:sub(1, 300), "\n") end
  end
end

done = function(summary, latency)
  if out then out:close() end
  report(summary, latency)
end
