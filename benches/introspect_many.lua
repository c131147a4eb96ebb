-- wrk script: POST token introspection (client_secret_basic), each request presenting
-- the next of many different access tokens. TOKENS_FILE (one token a line,
-- benches/mint_tokens.py) is split between the THREADS threads; each thread goes round
-- its share in order, so a token comes back only after every other token of the file
-- has been presented once: with more tokens than the server's memo of verified
-- signatures holds, nearly every request costs a full signature check. CLIENT_BASIC
-- comes from the environment. Kept lean like refresh.lua, since wrk shares the cores
-- with the server: the request's bytes up to the token are formatted once per token
-- length.
local threads = {}
local next_id = 0
setup = function(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local tokens, count, at = {}, 0, 0
local headers
local prefixes = {}
active = 0

init = function(args)
  local n, i = tonumber(os.getenv("THREADS") or "2"), 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if i % n == id then count = count + 1; tokens[count] = line end
    i = i + 1
  end
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("CLIENT_BASIC"),
  }
end

request = function()
  at = at % count + 1
  local token = tokens[at]
  local n = #token
  local prefix = prefixes[n]
  if not prefix then
    local whole = wrk.format("POST", wrk.path, headers, "token=" .. string.rep("x", n))
    prefix = string.sub(whole, 1, #whole - n)
    prefixes[n] = prefix
  end
  return prefix .. token
end

-- Counts the answers that say the token is active, so a figure of inactive answers
-- (expired or refused tokens, which cost no signature check) cannot pass unnoticed.
response = function(status, headers, body)
  if status == 200 and string.find(body, '"active":true', 1, true) then
    active = active + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("active") end
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
  io.write(string.format("active answers: %d of %d requests\n", total, summary.requests))
end
