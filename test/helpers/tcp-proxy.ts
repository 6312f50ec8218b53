// The fault proxy lives with the drills that use it; tests take the same one.
export { startTcpProxy, type TcpProxy } from '../../src/drill/cluster/tcp-proxy.js';
