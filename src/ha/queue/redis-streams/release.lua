-- Gives a held entry back: removes it from the stream and its pending list, then either adds it
-- again at the tail (delay 0) or parks it in the delayed set until promote.lua moves it back.
-- One script, so there is never a moment with two live copies, nor one with none. The delivery
-- count so far travels in the `d` field; with ARGV[5] = 1 the last delivery is taken back (the
-- consumer never worked on the entry).
-- KEYS[1] stream, KEYS[2] delayed set; ARGV[1] group, ARGV[2] consumer, ARGV[3] id, ARGV[4] delay ms,
-- ARGV[5] 1 to uncount the delivery.
-- Returns 1 when released, 0 when the entry is gone or held by another consumer.
local id = ARGV[3]
local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
if not p[1] or p[1][2] ~= ARGV[2] then return 0 end
local body, deliveries = take_out(KEYS[1], ARGV[1], id, p)
if body == nil then return 0 end
if ARGV[5] == '1' and deliveries > 0 then deliveries = deliveries - 1 end
local delay = tonumber(ARGV[4])
if delay <= 0 then
  redis.call('XADD', KEYS[1], '*', 'b', body, 'd', deliveries)
else
  local t = redis.call('TIME')
  local due = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + delay
  -- The old id makes the member unique: two equal bodies must not collapse into one.
  redis.call('ZADD', KEYS[2], due, id .. '\n' .. deliveries .. '\n' .. body)
end
return 1
