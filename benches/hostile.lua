-- wrk script: a flood of hostile requests, each from another client address (an
-- X-Forwarded-For address in 10.0.0.0/8 picked at random; the server must trust
-- 127.0.0.1 as its proxy), so per-address rate limits never hold it back. Cycles through
-- what an attacker without credentials can send: wrong client secrets, forged codes and
-- refresh tokens, a garbage client assertion, introspection with a wrong secret, a
-- forged access token at userinfo (naming the tenant's signing key, so each costs a
-- signature check), authorization requests for an unknown app or a foreign redirect URI,
-- a malformed token request, discovery of tenants that do not exist (a new name each
-- time). Every answer should be a catalogued 4xx, fast; the tally by status is printed.
-- Environment: HOSTILE_BEARER, the forged access token (benches/overload.sh makes it);
-- DELAY_MS paces it (benches/pace.lua).
dofile("benches/pace.lua")
local wrong = "Basic " .. "ZGFlbW9uOndyb25nLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm" -- daemon:wrong-secret-0123456789abcdef
local kinds = {
  { "POST", "/bench/oauth2/token", { Authorization = wrong },
    "grant_type=client_credentials&scope=api%3A%2F%2Fbench%2F.default" },
  { "POST", "/bench/oauth2/token", {},
    "grant_type=authorization_code&client_id=web&client_secret=guess&code=forged-code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb" },
  { "POST", "/bench/oauth2/token", {},
    "grant_type=refresh_token&client_id=web&refresh_token=forged-refresh-token" },
  { "POST", "/bench/oauth2/token", {},
    "grant_type=client_credentials&client_id=daemon&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJkYWVtb24ifQ.c2ln" },
  { "POST", "/bench/oauth2/token", {}, "grant_type=client_credentials&grant_type=password&scope=%ZZ" },
  { "GET", "/bench/oauth2/userinfo", { Authorization = "Bearer " .. os.getenv("HOSTILE_BEARER") } },
  { "POST", "/bench/oauth2/introspect", { Authorization = wrong }, "token=forged" },
  { "GET", "/bench/oauth2/authorize?client_id=nobody&response_type=code&redirect_uri=https%3A%2F%2Fevil.test%2Fcb&scope=openid" },
  { "GET", "/bench/oauth2/authorize?client_id=web&response_type=code&redirect_uri=https%3A%2F%2Fevil.test%2Fcb&scope=openid" },
  { "GET", nil }, -- discovery of a tenant that does not exist
}
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) math.randomseed(os.time()) end
local n = 0
request = function()
  n = n + 1
  local kind = kinds[n % #kinds + 1]
  local headers = { ["X-Forwarded-For"] = string.format("10.%d.%d.%d",
    math.random(0, 255), math.random(0, 255), math.random(1, 254)) }
  for k, v in pairs(kind[3] or {}) do headers[k] = v end
  local path = kind[2] or string.format("/t%08x/.well-known/openid-configuration", math.random(0, 0x7fffffff))
  if kind[4] then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  return wrk.format(kind[1], path, headers, kind[4])
end
tally = {}
response = function(status, headers, body)
  tally[status] = (tally[status] or 0) + 1
end
done = function(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local counts = t:get("tally")
    for status, count in pairs(counts) do all[status] = (all[status] or 0) + count end
  end
  local line = {}
  for status, count in pairs(all) do table.insert(line, string.format("%d: %d", status, count)) end
  table.sort(line)
  io.write("hostile answers by status: " .. table.concat(line, ", ") .. "\n")
  io.write(string.format("socket errors %d (timeouts %d)\n",
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.timeout))
  io.write(string.format("hostile latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
