-- Acknowledges and deletes entries in one step, so an acked message leaves no trace in the
-- stream (its length stays the number of live messages).
-- KEYS[1] stream; ARGV[1] group; ARGV[2..] entry ids. Returns how many were pending.
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
return acked
