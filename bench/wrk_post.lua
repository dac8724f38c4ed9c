-- The load generator's script for bench/run (one wrk thread): POSTs the body in $BENCH_BODY with the
-- headers in $BENCH_HEADERS ("Name: value" lines), keeps every $BENCH_SAMPLE-th successful response body in
-- $BENCH_SAMPLES (one per line, for openssl verify), and prints one JSON line of results at the end.
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk_report.lua")
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = "POST"
wrk.body = slurp(os.getenv("BENCH_BODY"))
for line in slurp(os.getenv("BENCH_HEADERS")):gmatch("[^\n]+") do
  local k, v = line:match("^([^:]+):%s*(.*)$")
  if k then wrk.headers[k] = v end
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
