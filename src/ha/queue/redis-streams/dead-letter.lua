-- Moves an entry to the dead-letter stream with a reason and removes it from the queue, in one
-- step. KEYS[1] stream, KEYS[2] dead-letter stream; ARGV[1] group, ARGV[2] id, ARGV[3] reason.
-- Returns 1 when moved, 0 when the entry is gone.
local id = ARGV[2]
local body, deliveries = take_out(KEYS[1], ARGV[1], id, redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1))
if body == nil then return 0 end
redis.call('XADD', KEYS[2], '*', 'b', body, 'r', ARGV[3], 'd', deliveries, 'm', id)
return 1
