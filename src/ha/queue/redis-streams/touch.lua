-- Resets the idle time of the entries this consumer still holds (XCLAIM JUSTID with min-idle 0
-- does not count a delivery). An entry another consumer has reclaimed is left with it: a plain
-- XCLAIM would take it back and give one message two live holders.
-- KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3..] entry ids. Returns how many were touched.
local args = { KEYS[1], ARGV[1], ARGV[2], 0 }
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then args[#args + 1] = ARGV[i] end
end
local touched = #args - 4
if touched > 0 then
  args[#args + 1] = 'JUSTID'
  redis.call('XCLAIM', unpack(args))
end
return touched
