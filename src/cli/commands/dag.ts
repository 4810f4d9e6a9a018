import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UserInputError } from '../../errors/index.js';
import { createEngineIo } from '../../runtime/index.js';
import { loadScript } from '../../script/index.js';
import { parseParamOverrides, type CommandRegistrar } from '../common.js';
import { scriptToDot, scriptToSvg } from '../diagram.js';

interface DagOptions {
  params?: string;
  param?: string[];
  format: string;
  output?: string;
}

export const dagCommand: CommandRegistrar = (program: Command) => {
  program
    .command('dag')
    .description("Draw a script's DAG: nodes with their types and start policy, tables on the edges")
    .argument('<script>', 'script file (.json or .yaml) or URL')
    .option('--params <file>', 'parameters file (.json or .yaml) or URL')
    .option('--param <key=value...>', 'override a parameter (repeatable)')
    .option('--format <svg|dot>', 'svg (laid out with dagre) or dot (Graphviz)', 'svg')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (scriptUrl: string, opts: DagOptions) => {
      if (opts.format !== 'svg' && opts.format !== 'dot') {
        throw new UserInputError('BAD_FORMAT', `--format ${opts.format}: expected svg or dot`);
      }
      const io = createEngineIo();
      const script = await loadScript({
        scriptUrl,
        paramsUrl: opts.params,
        overrides: parseParamOverrides(opts.param),
        readText: (u) => io.readText(u),
      });
      const text =
        opts.format === 'dot' ? scriptToDot(script) : scriptToSvg(script, path.basename(scriptUrl));
      if (opts.output) {
        await fs.writeFile(opts.output, text);
        process.stderr.write(`wrote ${opts.output}\n`);
      } else {
        process.stdout.write(text);
      }
    });
};
