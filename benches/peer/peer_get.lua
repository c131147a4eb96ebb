-- wrk script for the plain GET loads (JWKS, discovery): wrk's default request, plus
-- the same closing line as the other scripts.
done = function(summary, latency, requests)
  io.write(string.format("non-2xx responses: %d\n", summary.errors.status))
end
