-- wrk script: POST a client_credentials grant with client_secret_basic.
-- CLIENT_BASIC (base64 of client_id:secret) and SCOPE come from the environment
-- (benches/run.sh sets them); DELAY_MS paces it (benches/pace.lua).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("CLIENT_BASIC")
wrk.body = "grant_type=client_credentials&scope=" .. os.getenv("SCOPE")
dofile("benches/pace.lua")
done = function(summary, latency, requests)
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
end
