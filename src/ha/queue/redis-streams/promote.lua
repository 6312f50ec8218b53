-- Moves delayed entries whose time has come (Redis clock) to the stream tail, atomically:
-- an entry is either in the set or in the stream, never both, never neither.
-- KEYS[1] stream, KEYS[2] delayed set; ARGV[1] max entries per call. Returns how many moved.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local a = string.find(member, '\n', 1, true)
  local b = string.find(member, '\n', a + 1, true)
  redis.call('XADD', KEYS[1], '*', 'b', string.sub(member, b + 1), 'd', string.sub(member, a + 1, b - 1))
  redis.call('ZREM', KEYS[2], member)
end
return #due
