-- wrk script: refresh token rotations. Each response's new refresh token goes back in
-- its thread's queue, so every request presents a token that is current (a reused one
-- would revoke its family). Seeds come from REFRESH_SEEDS (benches/setup.py), split
-- between the THREADS threads; each thread needs more seeds than it has connections.
local threads = {}
local next_id = 0
setup = function(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local queue = {}
rotations = 0
local path, headers

init = function(args)
  local n, i = tonumber(os.getenv("THREADS") or "2"), 0
  for line in io.lines(os.getenv("REFRESH_SEEDS")) do
    if i % n == id then table.insert(queue, line) end
    i = i + 1
  end
  path = os.getenv("TOKEN_PATH")
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("WEB_BASIC"),
  }
end

request = function()
  -- An empty queue means responses failed; the placeholder is refused and counted.
  local token = table.remove(queue, 1) or "exhausted"
  return wrk.format("POST", path, headers, "grant_type=refresh_token&refresh_token=" .. token)
end

response = function(status, headers, body)
  local token = string.match(body, '"refresh_token":"([^"]+)"')
  if status == 200 and token then
    table.insert(queue, token)
    rotations = rotations + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("rotations") end
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
  io.write(string.format("rotations: %d, %.0f rotations/s\n", total, total / (summary.duration / 1e6)))
end
