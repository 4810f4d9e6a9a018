import { loadServicesEnv } from './services.js';

/** Loads test/.services.env (written by test/infra/up.sh) into the environment of every test worker. */
export default function globalSetup(): void {
  loadServicesEnv();
}
