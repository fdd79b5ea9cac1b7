import { connectDatabase, type Database } from '../../shared/db';
import { loadConfig } from '../../shared/config';
import { testEnv } from '../helpers/test-env';

/**
 * The local database uses its `_id` index. FerretDB 1.24's SQLite backend, as published, scans the whole table for
 * every find, update and delete by `_id` (its index and its queries name the field differently); infra/local/install.sh
 * builds it with that one line fixed. Lookups by `_id` are what keeps the review queue, the clips' state changes and the
 * fingerprint index (shared/provenance/fingerprint-index.ts) from growing with the collection, so this reads the plan
 * the database reports through `explain`: an unpatched build answers "SCAN", and this test fails.
 * On real MongoDB (`MONGO_URL` elsewhere) the plan says IDHACK or an index scan; both pass.
 */

let db: Database;

beforeAll(async () => {
  db = await connectDatabase(loadConfig(testEnv()).mongo.url);
});

afterAll(async () => {
  await db.close();
});

function planLines(explain: Record<string, unknown>): string {
  return JSON.stringify(explain.queryPlanner ?? explain);
}

/** True when the plan names a table scan (FerretDB's SQLite plan) or a collection scan (MongoDB). */
function scans(plan: string): boolean {
  return /detail=SCAN\b|"COLLSCAN"/.test(plan);
}

test.each([
  ['a string _id', 'posting-key-1'],
  ['an ObjectId _id', null],
])('a find by %s uses the _id index, not a scan', async (_name, stringId) => {
  const collection = db.connection.db!.collection(`id_index_check_${stringId ? 'string' : 'oid'}`);
  const { ObjectId } = await import('mongodb');
  const ids: Array<string | InstanceType<typeof ObjectId>> = Array.from({ length: 50 }, (_, i) => (stringId ? `${stringId}-${i}` : new ObjectId()));
  // The driver types `_id` as an ObjectId; FerretDB and MongoDB take strings as well.
  const target = { _id: ids[17] } as { _id: never };
  await collection.deleteMany({});
  await collection.insertMany(ids.map((_id, n) => ({ _id, n }) as never));
  try {
    const explain = (await collection.find(target).explain()) as Record<string, unknown>;
    const plan = planLines(explain);
    expect(scans(plan)).toBe(false);
    // FerretDB says which index; MongoDB says IDHACK, EXPRESS_IXSCAN or IXSCAN.
    expect(plan).toMatch(/USING INDEX \S+__id_|IDHACK|IXSCAN/);
    // And the document it finds is the right one (the fixed expression reads the same field).
    expect((await collection.findOne(target))?.n).toBe(17);
    await collection.updateOne(target, { $set: { n: 1700 } });
    expect((await collection.findOne(target))?.n).toBe(1700);
    await collection.deleteOne(target);
    expect(await collection.findOne(target)).toBeNull();
    expect(await collection.countDocuments()).toBe(49);
  } finally {
    await collection.drop();
  }
});

test('the scan detector recognises a scan (so the test above can fail)', () => {
  expect(scans(JSON.stringify({ Plan: ['id=2 parent=0 notused=0 detail=SCAN p_f50c43ef'] }))).toBe(true);
  expect(scans(JSON.stringify({ winningPlan: { stage: 'COLLSCAN' } }))).toBe(true);
  expect(scans(JSON.stringify({ Plan: ['id=3 parent=0 notused=0 detail=SEARCH p_f50c43ef USING INDEX p_f50c43ef__id_ (<expr>=?)'] }))).toBe(false);
});
