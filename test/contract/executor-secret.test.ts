import { createInMemoryExecutorSecret } from '../../shared/fakes/index.ts';
import { defineExecutorSecretContract } from './executor-secret.contract.ts';

defineExecutorSecretContract('in-memory fake', async (current) => {
  const store = createInMemoryExecutorSecret();
  if (current !== undefined) {
    store.seedCurrent('seeded-version', current);
  }
  return store;
});
