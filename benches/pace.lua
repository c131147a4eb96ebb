-- Loaded by the wrk scripts (dofile, from the repository root): with DELAY_MS set, each
-- connection pauses that long before each request, so a load of C connections offers
-- at most C * 1000 / DELAY_MS requests a second (benches/overload.sh sets it). wrk's
-- latency counts from the request's sending, so the pause is not in it. JITTER=1 draws
-- each pause at random around DELAY_MS.
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause and pause > 0 then
  if os.getenv("JITTER") == "1" then
    -- Pauses drawn uniformly from 0 to twice DELAY_MS (the same mean): connections that
    -- started together drift apart instead of sending in step.
    delay = function() return math.random(0, 2 * pause) end
  else
    delay = function() return pause end
  end
end
