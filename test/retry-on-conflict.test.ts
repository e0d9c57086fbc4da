// The one read-modify-write loop: redo after a lost race, bounded, and never
// swallow an error that is not a race.
import t from 'tap';
import { ConflictError, retryOnConflict } from '../src/cluster/retry-on-conflict.js';
import { ApiError } from '../src/cluster/store.js';

const conflict = () => new ApiError('update secrets ns/x', 409, 'Conflict', 'the object has been modified');
const raced = (e: unknown) => e instanceof ApiError && e.conflict;

t.test('redoes the attempt after each lost race, then returns what it returned', async t => {
  const seen: number[] = [];
  const out = await retryOnConflict('Secret ns/x', { attempts: 4, raced }, async n => {
    seen.push(n);
    if (n < 3) throw conflict();
    return 'written';
  });
  t.equal(out, 'written');
  t.same(seen, [1, 2, 3]);
});

t.test('an error that is not a race is thrown at once', async t => {
  let calls = 0;
  const forbidden = new ApiError('update secrets ns/x', 403, 'Forbidden', 'no');
  await t.rejects(
    retryOnConflict('Secret ns/x', { attempts: 4, raced }, async () => {
      calls++;
      throw forbidden;
    }),
    forbidden,
  );
  t.equal(calls, 1);
});

t.test('every attempt lost: a ConflictError naming the object, the count and the last race', async t => {
  let calls = 0;
  const err = await retryOnConflict('Secret ns/x', { attempts: 3, raced }, async () => {
    calls++;
    throw conflict();
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal(calls, 3);
  t.ok(err instanceof ConflictError);
  t.equal((err as Error).message, 'Secret ns/x: still conflicting after 3 attempts; another writer keeps changing it');
  t.ok((err as Error).cause instanceof ApiError);
});
