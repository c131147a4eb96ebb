-- wrk script: refresh token rotations. Each response's new refresh token goes back in
-- its thread's queue, so every request presents a token that is current (a reused one
-- would revoke its family). Seeds come from REFRESH_SEEDS (benches/setup.py), split
-- between the THREADS threads; each thread needs more seeds than it has connections.
-- Kept lean, since wrk shares the two cores with the server: the request's bytes up to
-- the token are formatted once per token length, the queue is a ring (no shifting),
-- and the response is searched for a plain string, not a pattern. DELAY_MS paces it
-- (benches/pace.lua).
dofile("benches/pace.lua")
local threads = {}
local next_id = 0
setup = function(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local queue, head, tail = {}, 1, 0
rotations = 0
local path, headers
local prefixes = {}
local FIELD = '"refresh_token":"'

init = function(args)
  local n, i = tonumber(os.getenv("THREADS") or "2"), 0
  for line in io.lines(os.getenv("REFRESH_SEEDS")) do
    if i % n == id then tail = tail + 1; queue[tail] = line end
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
  local token = "exhausted"
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  end
  local n = #token
  local prefix = prefixes[n]
  if not prefix then
    local whole = wrk.format("POST", path, headers,
      "grant_type=refresh_token&refresh_token=" .. string.rep("x", n))
    prefix = string.sub(whole, 1, #whole - n)
    prefixes[n] = prefix
  end
  return prefix .. token
end

response = function(status, headers, body)
  if status ~= 200 then return end
  local _, at = string.find(body, FIELD, 1, true)
  if not at then return end
  local stop = string.find(body, '"', at + 1, true)
  if not stop then return end
  tail = tail + 1
  queue[tail] = string.sub(body, at + 1, stop - 1)
  rotations = rotations + 1
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("rotations") end
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
  io.write(string.format("rotations: %d, %.0f rotations/s\n", total, total / (summary.duration / 1e6)))
end
