export * from './gateway.js';
export * from './customers.js';
