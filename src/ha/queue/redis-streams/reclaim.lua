-- Takes over entries idle past the visibility timeout (XAUTOCLAIM counts one more delivery) and
-- dead-letters, in the same step, those that pass the delivery limit.
-- KEYS[1] stream, KEYS[2] dead-letter stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] min idle ms,
-- ARGV[4] scan cursor, ARGV[5] count, ARGV[6] max deliveries.
-- Returns { next cursor, { {id, body, deliveries}, ... }, dead-lettered count }.
local res = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local max = tonumber(ARGV[6])
local out = {}
local dead = 0
for _, entry in ipairs(res[2]) do
  -- Before Redis 7, an entry deleted from the stream came back as nil here.
  if entry and entry[2] then
    local id = entry[1]
    local body, carried = entry_fields(entry[2])
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    local deliveries = carried + tonumber(p[1][4])
    if deliveries > max then
      -- This delivery is not handed out: the dead letter records the ones that were.
      redis.call('XADD', KEYS[2], '*', 'b', body, 'd', deliveries - 1, 'm', id,
        'r', 'delivered ' .. (deliveries - 1) .. ' times without an ack (limit ' .. max .. ')')
      redis.call('XACK', KEYS[1], ARGV[1], id)
      redis.call('XDEL', KEYS[1], id)
      dead = dead + 1
    else
      out[#out + 1] = { id, body, deliveries }
    end
  end
end
return { res[1], out, dead }
