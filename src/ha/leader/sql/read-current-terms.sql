-- Every key's current term with its own journal entry: when it began and whether it is closed.
SELECT t.key_id, t.key, t.epoch, t.holder, t.backend_pid, t.updated_at, j.acquired_at, j.ended_at, j.reason
FROM stratus_leadership AS t
LEFT JOIN stratus_leadership_journal AS j ON j.key_id = t.key_id AND j.epoch = t.epoch
ORDER BY t.key_id
