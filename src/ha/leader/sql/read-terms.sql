SELECT key_id, key, epoch, holder, backend_pid, updated_at FROM stratus_leadership ORDER BY key_id
