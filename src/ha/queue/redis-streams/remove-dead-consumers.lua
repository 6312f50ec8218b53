-- Deletes consumers that hold nothing and have been idle long enough. In a script because
-- XGROUP DELCONSUMER drops the consumer's pending entries: checked and deleted in one step, no
-- message can be handed to it in between and lost with it.
-- KEYS[1] stream; ARGV[1] group, ARGV[2] idle ms, ARGV[3] the caller's own consumer (kept).
-- Returns the names removed.
local info = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
local removed = {}
if type(info) ~= 'table' or info.err then return removed end
local minIdle = tonumber(ARGV[2])
for _, c in ipairs(info) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1]
    elseif c[i] == 'pending' then pending = tonumber(c[i + 1])
    elseif c[i] == 'idle' then idle = tonumber(c[i + 1]) end
  end
  if name ~= ARGV[3] and pending == 0 and idle ~= nil and idle >= minIdle then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed[#removed + 1] = name
  end
end
return removed
