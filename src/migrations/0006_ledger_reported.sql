-- When the failure of a job failed for good was reported (the worker's onDeadLetter hook): a
-- duplicate copy of the job that arrives later is acknowledged without telling the hook again,
-- and a copy that finds the failure recorded but never reported (its worker died in between)
-- reports it. Failures recorded before this column existed were reported when they happened.
ALTER TABLE stratus_ledger ADD COLUMN reported_at timestamptz;
UPDATE stratus_ledger SET reported_at = finished_at WHERE state = 'failed';
