-- wrk script: POST token introspection (client_secret_basic) for one access token.
-- CLIENT_BASIC (base64 of id:secret) and TOKEN come from the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("CLIENT_BASIC")
wrk.body = "token=" .. os.getenv("TOKEN")
done = function(summary, latency, requests)
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
end
