export * from './gateway.js';
export * from './customers.js';
export * from './loop-hold.js';
export * from './notices.js';
