-- Adds many entries in one call: one command for the client to encode and one reply to parse,
-- instead of one of each per entry. All or none: a script runs to its end or not at all.
-- KEYS[1] stream; ARGV[1..] bodies. Returns the new entry ids, in order.
local ids = {}
for i = 1, #ARGV do ids[i] = redis.call('XADD', KEYS[1], '*', 'b', ARGV[i]) end
return ids
