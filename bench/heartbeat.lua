-- wrk script: a camera gateway posting 500 heartbeats a request for random
-- cameras among the 100,000 bench/seal.sh registered; token from $TOKEN.
local token = os.getenv("TOKEN")
init = function(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end
request = function()
  local parts = {}
  for i = 1, 500 do
    parts[i] = string.format('{"device_id":"3310230000131%07d"}', math.random(1, 100000))
  end
  return wrk.format("POST", "/api/v1/cameras/heartbeats",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token},
    '{"beats":[' .. table.concat(parts, ",") .. ']}')
end
