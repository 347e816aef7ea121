/**
 * V8 settings of the gateway process, set before anything else is loaded: main.ts imports
 * this module first.
 *
 * Allocation-site pretenuring off. In the first second of load the young generation is still
 * small and scavenged every few milliseconds, so almost every request in flight survives one,
 * and V8 decided that allocation sites on the GraphQL path (graphql-jit's execution context,
 * among others) make long-lived objects: for the rest of the process it allocated them in the
 * old generation. An old-generation object keeps what it points to alive through every
 * scavenge until the next full GC, dead or not, so each GraphQL request's young objects were
 * promoted whole: ~320 KB per scavenge instead of ~3 KB, scavenge pauses 1.1 ms instead of
 * 0.5, and the old generation filled with finished requests between full GCs. Measured at 50
 * connections of GraphQL `predict`: peak RSS 248-252 MB with pretenuring (the 250 MB target),
 * 183-184 MB without, and 6-9% more requests (at 256 connections 279 against 190 MB, +24%);
 * REST unchanged. See README "Performance".
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-allocation-site-pretenuring');
