// The benchmark's Clerk: test/backfill's stand-in for the Backend API
// serving a generated instance of the given sizes, with no rate limit (it
// never answers 429). Every object's JSON is written once before it
// listens, so that serving a page is joining texts. Prints the API's URL on
// stdout, then serves until killed.
//
//   node bench/backfill/serve.mjs KEY organizations=N users=N memberships=N ...

import { ClerkInstance } from '../../test/backfill/clerk-instance.mjs';
import { ClerkApiStandIn } from '../../test/backfill/clerk-api-stand-in.mjs';

const [key, ...sizeArgs] = process.argv.slice(2);
const sizes = Object.fromEntries(sizeArgs.map((a) => a.split('=')).map(([k, v]) => [k, Number(v)]));
const started = Date.now();
const instance = new ClerkInstance(20260512, sizes, { events: false });
instance.warm();
const api = new ClerkApiStandIn(instance, { secretKey: key });
const url = await api.listen();
process.stderr.write(`[backfill-bench] instance generated and written in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
console.log(url);
process.on('SIGTERM', () => api.close().then(() => process.exit(0)));
