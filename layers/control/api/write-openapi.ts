/** `npm run openapi`: writes docs/openapi.yaml from the API's schemas. */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openApiYaml } from './openapi-yaml.js';

const target = fileURLToPath(new URL('../../../docs/openapi.yaml', import.meta.url));
await writeFile(target, openApiYaml());
process.stdout.write(`wrote ${target}\n`);
