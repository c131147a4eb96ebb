-- wrk script: password sign-ins through the sign-in form: the same CSRF cookie and form
-- (a pending authorization request, alice's username and password) each time. Each
-- answer is a 303/302 that starts a new SSO session (an Argon2id verification and a
-- session write).
-- Environment (benches/setup.py): SIGNIN_PATH, SIGNIN_COOKIE, SIGNIN_BODY.
wrk.method = "POST"
wrk.path = os.getenv("SIGNIN_PATH")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("SIGNIN_COOKIE")
wrk.body = os.getenv("SIGNIN_BODY")
local threads = {}
setup = function(thread) table.insert(threads, thread) end
signed_in = 0
response = function(status, headers, body)
  -- A refused password answers 200 with the form again.
  if status == 302 or status == 303 then
    signed_in = signed_in + 1
  end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("signed_in") end
  io.write(string.format("non-2xx/3xx responses: %d\n", summary.errors.status))
  io.write(string.format("sign-ins that started a session: %d, %.1f/s\n", total, total / (summary.duration / 1e6)))
end
