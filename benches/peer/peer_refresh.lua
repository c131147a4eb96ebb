-- wrk script: refresh-token rotation with client_secret_basic. Each thread keeps a FIFO
-- queue of live refresh tokens: a request takes the oldest, its response's new
-- refresh_token goes to the back. The tokens come from SEED_REFRESH_FILE (one a line),
-- dealt out to the THREADS threads (line n to thread n % THREADS), so no two threads
-- (and no two connections) ever hold the same token: every request is a first use.
-- CLIENT_BASIC (base64 of client_id:secret) comes from the environment too.
-- Needs at least as many tokens per thread as connections per thread; a request made
-- with the queue empty is sent with an empty refresh_token (and counts as non-2xx).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local queue, head, tail = {}, 1, 0
empty = 0 -- global: done() reads it with thread:get

function init(args)
  local nthreads = tonumber(os.getenv("THREADS") or "2")
  local n = 0
  for line in io.lines(os.getenv("SEED_REFRESH_FILE")) do
    if line ~= "" then
      if n % nthreads == id then
        tail = tail + 1
        queue[tail] = line
      end
      n = n + 1
    end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = "Basic " .. os.getenv("CLIENT_BASIC")
end

function request()
  local token = ""
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  else
    empty = empty + 1
  end
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then
    tail = tail + 1
    queue[tail] = token
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
  local starved = 0
  for _, thread in ipairs(threads) do
    starved = starved + (thread:get("empty") or 0)
  end
  if starved > 0 then
    io.write(string.format("requests sent with no refresh token left: %d\n", starved))
  end
end
