-- wrk script: each request asks for a random path from the file in $PATHS
-- (one path per line), so the cache sees the spread of a real day.
local paths = {}
init = function(args)
  local f = assert(io.open(os.getenv("PATHS"), "r"))
  for line in f:lines() do paths[#paths + 1] = line end
  f:close()
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
