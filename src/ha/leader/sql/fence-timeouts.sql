-- Bounds a fenced transaction: a writer that stops (SIGSTOP, partition) while holding the
-- term row FOR SHARE is ended by the server, so the next leader's epoch bump waits at most
-- this long for it.
SELECT set_config('idle_in_transaction_session_timeout', $1, true),
       set_config('statement_timeout', $2, true)
