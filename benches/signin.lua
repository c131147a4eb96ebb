-- wrk script: password sign-ins through the sign-in form: the same CSRF cookie and form
-- (a pending authorization request, alice's username and password) each time. Each
-- answer is a 303/302 that starts a new SSO session (an Argon2id verification and a
-- session write). Under overload (benches/overload.sh) it also counts the sign-ins shed
-- because the hashing queue was full (503, before any hashing) or rate-limited (429).
-- Environment (benches/setup.py): SIGNIN_PATH, SIGNIN_COOKIE, SIGNIN_BODY; DELAY_MS
-- paces it (benches/pace.lua).
wrk.method = "POST"
wrk.path = os.getenv("SIGNIN_PATH")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("SIGNIN_COOKIE")
wrk.body = os.getenv("SIGNIN_BODY")
local threads = {}
setup = function(thread) table.insert(threads, thread) end
dofile("benches/pace.lua")
signed_in, shed, limited, other = 0, 0, 0, 0
response = function(status, headers, body)
  -- A refused password answers 200 with the form again.
  if status == 302 or status == 303 then
    signed_in = signed_in + 1
  elseif status == 503 then
    shed = shed + 1
  elseif status == 429 then
    limited = limited + 1
  else
    other = other + 1
  end
end
done = function(summary, latency, requests)
  local total, s, l, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("signed_in"); s = s + t:get("shed")
    l = l + t:get("limited"); o = o + t:get("other")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("non-2xx/3xx responses: %d\n", summary.errors.status))
  io.write(string.format("sign-ins that started a session: %d, %.1f/s\n", total, total / secs))
  io.write(string.format("shed: %d answered 503 (hashing queue full), %d answered 429, %d other; socket errors %d (timeouts %d)\n",
    s, l, o, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.timeout))
  io.write(string.format("sign-in latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
