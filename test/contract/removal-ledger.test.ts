import { createInMemoryRemovalLedger } from '../../shared/fakes/index.ts';
import { defineRemovalLedgerContract } from './removal-ledger.contract.ts';

defineRemovalLedgerContract('in-memory fake', (clock) => createInMemoryRemovalLedger({ clock }));
