// Prints each change orgsync commits (Node, with the `pg` package).
import pg from 'pg';

const client = new pg.Client(process.env.DATABASE_URL); // or PGHOST, PGDATABASE, ...
await client.connect();
client.on('notification', ({ payload }) => {
  const change = JSON.parse(payload);
  // Here an app would drop what it cached for change.organization_id, say.
  console.log(`${change.operation} ${change.table} ${change.id} organization=${change.organization_id}`);
});
client.on('error', (err) => { console.error(err.message); process.exit(1); });
await client.query('LISTEN orgsync_changes');
console.log('listening');
