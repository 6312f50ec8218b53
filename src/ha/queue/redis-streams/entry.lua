-- Shared by the scripts that read an entry's fields or take an entry out of the stream;
-- script.ts puts it in front of them (Redis has no include). An entry's fields: `b` the body,
-- `d` the deliveries its earlier copies had (a released entry is added again as a new entry,
-- whose own delivery count starts at 0).

-- The body and the deliveries carried over from earlier copies.
local function entry_fields(fields)
  local body, carried = '', 0
  for i = 1, #fields, 2 do
    if fields[i] == 'b' then body = fields[i + 1] elseif fields[i] == 'd' then carried = tonumber(fields[i + 1]) end
  end
  return body, carried
end

-- Removes entry `id` from the stream and from the group's pending list. `pending` is its
-- XPENDING row (or an empty table). Returns the body and every delivery so far, or nil when the
-- entry is gone from the stream.
local function take_out(stream, group, id, pending)
  local e = redis.call('XRANGE', stream, id, id)
  redis.call('XACK', stream, group, id)
  redis.call('XDEL', stream, id)
  if not e[1] then return nil end
  local body, carried = entry_fields(e[1][2])
  local delivered = 0
  if pending[1] then delivered = tonumber(pending[1][4]) end
  return body, carried + delivered
end
