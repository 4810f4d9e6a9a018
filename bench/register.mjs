// Lets `node --import ./bench/register.mjs bench/main.ts` run TypeScript sources directly (tsx's ESM loader).
import { register } from 'tsx/esm/api';

register();
