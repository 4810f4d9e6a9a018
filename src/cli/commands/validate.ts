import type { Command } from 'commander';
import { createEngineIo } from '../../runtime/index.js';
import { loadScript } from '../../script/index.js';
import { parseParamOverrides, type CommandRegistrar } from '../common.js';

interface ValidateOptions {
  params?: string;
  param?: string[];
}

export const validateCommand: CommandRegistrar = (program: Command) => {
  program
    .command('validate')
    .description('Load and check a script (structure, references, expression types) without touching data')
    .argument('<script>', 'script file (.json or .yaml) or URL')
    .option('--params <file>', 'parameters file (.json or .yaml) or URL')
    .option('--param <key=value...>', 'override a parameter (repeatable)')
    .action(async (scriptUrl: string, opts: ValidateOptions) => {
      const io = createEngineIo();
      const script = await loadScript({
        scriptUrl,
        paramsUrl: opts.params,
        overrides: parseParamOverrides(opts.param),
        readText: (u) => io.readText(u),
      });
      for (const w of script.warnings) process.stderr.write(`warning: ${w}\n`);
      const types = new Map<string, number>();
      for (const n of script.nodes.values()) types.set(n.type, (types.get(n.type) ?? 0) + 1);
      const summary = [...types].map(([t, c]) => `${c} ${t}`).join(', ');
      process.stdout.write(
        `${scriptUrl}: OK: ${script.nodes.size} nodes (${summary}), ${script.dependencyPolicies.size} dependency policies\n`,
      );
    });
};
