-- wrk script: authorization code flows with an existing SSO session. Each flow is a GET
-- of the authorization endpoint with the session cookie (302 with a code) and a POST of
-- that code to the token endpoint (client_secret_basic). A thread's connections share
-- its codes: whichever connection is free redeems the next one.
-- Environment (benches/setup.py prints it): AUTHORIZE_PATH, SESSION_COOKIE, TOKEN_PATH,
-- REDIRECT_URI (encoded), WEB_BASIC.
local threads = {}
setup = function(thread) table.insert(threads, thread) end

local codes = {}
flows = 0
local authorize, token_path, token_headers, redirect

init = function(args)
  authorize = wrk.format("GET", os.getenv("AUTHORIZE_PATH"), { Cookie = os.getenv("SESSION_COOKIE") })
  token_path = os.getenv("TOKEN_PATH")
  token_headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("WEB_BASIC"),
  }
  redirect = os.getenv("REDIRECT_URI")
end

request = function()
  local code = table.remove(codes)
  if code then
    return wrk.format("POST", token_path, token_headers,
      "grant_type=authorization_code&redirect_uri=" .. redirect .. "&code=" .. code)
  end
  return authorize
end

response = function(status, headers, body)
  if status == 302 or status == 303 then
    local location = headers["location"] or headers["Location"] or ""
    local code = string.match(location, "[?&]code=([^&]+)")
    if code then table.insert(codes, code) end
  elseif status == 200 and string.find(body, '"id_token"', 1, true) then
    flows = flows + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("flows") end
  io.write(string.format("non-2xx/3xx responses: %d\n", summary.errors.status))
  io.write(string.format("complete flows (authorize + token): %d, %.0f flows/s\n",
    total, total / (summary.duration / 1e6)))
end
