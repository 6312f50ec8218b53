-- Moves an entry to the dead-letter stream with a reason and removes it from the queue, in one
-- step. KEYS[1] stream, KEYS[2] dead-letter stream; ARGV[1] group, ARGV[2] id, ARGV[3] reason.
-- Returns 1 when moved, 0 when the entry is gone.
local id = ARGV[2]
local e = redis.call('XRANGE', KEYS[1], id, id)
local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
redis.call('XACK', KEYS[1], ARGV[1], id)
redis.call('XDEL', KEYS[1], id)
if not e[1] then return 0 end
local fields = e[1][2]
local body, carried = '', 0
for i = 1, #fields, 2 do
  if fields[i] == 'b' then body = fields[i + 1] elseif fields[i] == 'd' then carried = tonumber(fields[i + 1]) end
end
local delivered = 0
if p[1] then delivered = tonumber(p[1][4]) end
redis.call('XADD', KEYS[2], '*', 'b', body, 'r', ARGV[3], 'd', carried + delivered, 'm', id)
return 1
