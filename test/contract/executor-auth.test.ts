import { createInMemorySiteConfig } from '../../shared/fakes/index.ts';
import { defineExecutorAuthContract } from './executor-auth.contract.ts';

defineExecutorAuthContract('in-memory fake', () => {
  const fake = createInMemorySiteConfig();
  return { check: fake.executorAuth, setToken: (token) => fake.setExecutorToken(token) };
});
