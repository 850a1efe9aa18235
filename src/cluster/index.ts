// The cluster feature's public module: what other features may use of the node registry.
export { holderAlive, type NodeIdentity } from './node-registry.js';
