/** Imports every type file, then builds the schema. */
import { builder } from './builder.js';
import './enums.js';
import './customer-input.js';
import './prediction.js';
import './model-info.js';
import './admin.js';

export const schema = builder.toSchema();
