-- Bounds a fenced transaction on the server: a writer that stops (SIGSTOP, partition) holds
-- the fence at most statement + idle timeout after it stopped, so the next leader's epoch
-- bump never waits for it longer than that.
SELECT set_config('idle_in_transaction_session_timeout', $1, true),
       set_config('statement_timeout', $2, true)
