import { createSimBackends } from '../../src/sim/index.js';
import { portContract } from './port-contract.js';

const sim = createSimBackends();
portContract('in-process simulated cloud', () => sim);
