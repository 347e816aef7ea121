/**
 * V8 settings of the gateway process, set before anything else is loaded: main.ts imports
 * this module, and only then the gateway (src/start.ts).
 *
 * Allocation-site pretenuring off. In the first second of load the young generation is still
 * small and scavenged every few milliseconds, so almost every request in flight survives one,
 * and V8 decided that allocation sites on the GraphQL path (in graphql-jit's execution, by
 * bisection) make long-lived objects: for the rest of the process it allocated them in the
 * old generation. An old-generation object keeps what it points to alive through every
 * scavenge until the next full GC, dead or not, so each GraphQL request's young objects were
 * promoted whole: ~320 KB per scavenge instead of ~3 KB, scavenge pauses 1.1 ms instead of
 * 0.5, and the old generation filled with finished requests between full GCs. Measured at 50
 * connections of GraphQL `predict`: peak RSS 248-252 MB with pretenuring (the 250 MB target),
 * 183-184 MB without, and 6-9% more requests (at 256 connections 279 against 190 MB, +24%);
 * REST unchanged. See docs/performance.md, "What made the difference".
 *
 * Set at run time because Node refuses V8 flags in NODE_OPTIONS, and every launcher (the
 * Dockerfile's CMD, npm start, the bench, the tests) runs `node dist/src/main.js` or
 * `src/main.ts` as it is. Node warns that V8 flags changed after start-up may misbehave; this
 * one only changes where new objects are allocated, and start-up, CI, the bench and a
 * 10-minute soak (7.6 M requests) ran with it. Flags that change how the heap works do crash
 * when set this way (`--single-threaded-gc` failed a V8 check at start-up): do not add any here
 * without the same trials.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-allocation-site-pretenuring');
