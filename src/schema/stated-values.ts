/**
 * What the schema's descriptions state of the configuration. The schema is one object for every
 * configuration (the committed schema/schema.graphql is checked against it), so a configurable
 * limit is stated as its default, read from config.ts rather than copied; GET /openapi.json
 * states the serving gateway's MAX_BATCH and BODY_LIMIT_BYTES.
 */
import { loadConfig } from '../config.js';

/** The configuration when no variable is set. */
export const CONFIG_DEFAULTS = loadConfig({});

/** A count as a reader writes it: 10,000. */
export const grouped = (n: number): string => n.toLocaleString('en-US');
