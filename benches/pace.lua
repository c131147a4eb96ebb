-- Loaded by the wrk scripts (dofile, from the repository root): with DELAY_MS set, each
-- connection pauses that long before each request, so a load of C connections offers
-- at most C * 1000 / DELAY_MS requests a second (benches/overload.sh sets it). wrk's
-- latency counts from the request's sending, so the pause is not in it.
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause and pause > 0 then
  delay = function() return pause end
end
