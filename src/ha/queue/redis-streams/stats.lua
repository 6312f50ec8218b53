-- One consistent snapshot of the queue's figures. Acked, released and dead-lettered entries are
-- deleted from the stream, so every entry left is either pending or not yet delivered: the lag
-- is length - pending (XINFO's own lag turns unknown after deletions).
-- KEYS[1] stream, KEYS[2] delayed set, KEYS[3] dead-letter stream; ARGV[1] group.
-- Returns { length, pending, oldest pending age ms, delayed, dead letters }.
local length = redis.call('XLEN', KEYS[1])
local pending, oldest = 0, 0
local s = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if type(s) == 'table' and not s.err and tonumber(s[1]) > 0 then
  pending = tonumber(s[1])
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local added = tonumber(string.match(s[2], '^(%d+)'))
  oldest = math.max(0, now - added)
end
return { length, pending, oldest, redis.call('ZCARD', KEYS[2]), redis.call('XLEN', KEYS[3]) }
