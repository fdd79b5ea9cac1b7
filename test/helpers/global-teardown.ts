import { rm } from 'node:fs/promises';
import type { LocalServices } from '../../infra/local/services';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __solidarityServices?: { services: LocalServices; dataDir: string } }).__solidarityServices;
  if (!state) return;
  await state.services.stop();
  await rm(state.dataDir, { recursive: true, force: true });
}
