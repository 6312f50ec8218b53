-- Takes over entries idle past the visibility timeout (XAUTOCLAIM counts one more delivery).
-- An entry past the delivery limit is returned too: the consumer records its fate in the
-- ledger before it dead-letters it, so the queue never buries a job behind the ledger's back.
-- KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] min idle ms, ARGV[4] scan cursor,
-- ARGV[5] count. Returns { next cursor, { {id, body, deliveries}, ... } }.
local res = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {}
for _, entry in ipairs(res[2]) do
  -- Before Redis 7, an entry deleted from the stream came back as nil here.
  if entry and entry[2] then
    local id = entry[1]
    local body, carried = entry_fields(entry[2])
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    out[#out + 1] = { id, body, carried + tonumber(p[1][4]) }
  end
end
return { res[1], out }
