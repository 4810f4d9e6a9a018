import { DEFAULT_PYTHON, type PythonSettings } from '../engine/index.js';

/**
 * py_calc interpreter settings from the environment: PLEXUS_PYTHON (interpreter, default python3),
 * PLEXUS_PYTHON_TIMEOUT_MS (per rowset program, default 0 = no limit).
 */
export function pythonSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): PythonSettings {
  const timeout = Number(env.PLEXUS_PYTHON_TIMEOUT_MS ?? '0');
  return {
    interpreterPath: env.PLEXUS_PYTHON || DEFAULT_PYTHON.interpreterPath,
    interpreterParams: DEFAULT_PYTHON.interpreterParams,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 0,
  };
}
