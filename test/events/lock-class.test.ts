// The trigger and the horizon's query spell the event writers' lock class as a number (SQL cannot
// import it): both must be the registry's.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LockClass } from '../../src/ha/db/lock-ids.js';

const read = (path: string) => readFileSync(new URL(`../../src/${path}`, import.meta.url), 'utf8');

/** The lock class numbers a SQL text passes to the two-integer advisory lock functions or compares. */
function classesIn(sql: string): number[] {
  return [...sql.matchAll(/(?:pg_advisory_xact_lock_shared\(|classid = )(\d+)/g)].map((m) => Number(m[1]));
}

describe('the event writers lock class', () => {
  it('is the registry one in the trigger and in the writers query', () => {
    expect(classesIn(read('migrations/0011_events.sql'))).toEqual([LockClass.eventWriters]);
    expect(classesIn(read('control/sql/event-writers.sql'))).toEqual([LockClass.eventWriters]);
  });

  it('tells a wrong number apart', () => {
    const wrong = read('control/sql/event-writers.sql').replace(String(LockClass.eventWriters), '1398013956');
    expect(classesIn(wrong)).not.toEqual([LockClass.eventWriters]);
  });
});
