-- bench/run's inventory reader (one wrk thread): GETs the paths listed in $BENCH_PATHS (one per line) in
-- turn, with the headers in $BENCH_HEADERS, and prints one JSON line of results at the end.
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk_report.lua")
local function lines(path)
  local t = {}
  for l in assert(io.open(path, "rb")):lines() do if #l > 0 then t[#t + 1] = l end end
  return t
end

local paths = lines(os.getenv("BENCH_PATHS"))
local headers = {}
for _, l in ipairs(lines(os.getenv("BENCH_HEADERS"))) do
  local k, v = l:match("^([^:]+):%s*(.*)$")
  if k then headers[k] = v end
end
local i = 0

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers)
end

local bad = 0
response = function(status, _, body)
  if status ~= 200 then
    bad = bad + 1
    if bad == 1 then io.stderr:write("first failure: ", status, " ", body:sub(1, 300), "\n") end
  end
end

done = function(summary, latency)
  report(summary, latency)
end
