import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * The engine's worker entries, bundled as separate files beside the handler: the engine starts
 * each as `new URL('./<name>.js', import.meta.url)`, which in a one-file bundle is the bundle's
 * own folder.
 */
const WORKER_ENTRIES: Readonly<Record<string, string>> = {
  'seal-worker': 'layers/kloset/sealing/seal-worker.ts',
  'verify-worker': 'layers/kloset/check/verify-worker.ts',
  'write-worker': 'layers/kloset/restore/write-worker.ts',
};

/**
 * Native packages the bundle loads at run time by a computed path (`zstd-napi` by its build type,
 * `@mongodb-js/zstd` by platform and libc), which esbuild cannot follow: they stay external and
 * only their run-time files are copied into the bundle's `node_modules`. The binaries are this
 * machine's linux-x64-gnu builds, hence x86_64 functions (zstd-napi cannot be cross-compiled here).
 */
const NATIVE_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  'zstd-napi': ['package.json', 'binding.js', 'dist/*.js', 'build/Release/binding.node'],
  '@mongodb-js/zstd': ['package.json', 'index.js', 'bindings.js'],
  '@mongodb-js/zstd-linux-x64-gnu': ['package.json', 'zstd.linux-x64-gnu.node'],
};
const EXTERNAL_MODULES = ['zstd-napi', '@mongodb-js/zstd'];

/** ES module output needs `require` for the CommonJS packages bundled inside (the AWS SDK's). */
const REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

const TARGET = 'node22';

/** Shell commands that bundle the worker entries with the handler's settings into `outputDir`. */
function bundleWorkers(inputDir: string, outputDir: string): string {
  const entries = Object.entries(WORKER_ENTRIES).map(([name, source]) => `'${name}=${inputDir}/${source}'`);
  const externals = EXTERNAL_MODULES.map((m) => `--external:${m}`);
  return [
    `'${inputDir}/node_modules/.bin/esbuild'`,
    ...entries,
    '--bundle --platform=node --format=esm --minify --keep-names --log-level=warning',
    `--target=${TARGET}`,
    `--outdir='${outputDir}'`,
    ...externals,
    '--loader:.node=copy',
    `"--banner:js=${REQUIRE_BANNER}"`,
  ].join(' ');
}

/** Shell commands that copy the native packages' run-time files (globs allowed) into `outputDir`. */
function copyNativePackages(inputDir: string, outputDir: string): string[] {
  return Object.entries(NATIVE_PACKAGES).flatMap(([name, files]) =>
    files.map((file) => {
      const folder = file.includes('/') ? `/${file.slice(0, file.lastIndexOf('/'))}` : '';
      const target = `'${outputDir}/node_modules/${name}${folder}'`;
      return `mkdir -p ${target} && cp '${inputDir}/node_modules/${name}/'${file} ${target}/`;
    }),
  );
}

/**
 * esbuild settings for a function: one ES module with the AWS SDK bundled (the version tested
 * here, not the runtime's). With `engine`, for a handler that runs the Kloset engine, also the
 * worker entries beside it, the native zstd packages in `node_modules`, and a `package.json`
 * that makes the workers' `.js` ES modules.
 */
export function functionBundling({ engine }: { engine: boolean }): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: TARGET,
    mainFields: ['module', 'main'],
    minify: true,
    keepNames: true,
    banner: REQUIRE_BANNER,
    externalModules: EXTERNAL_MODULES,
    // statically required `.node` files (ssh2's optional crypto, cpu-features) are copied by esbuild
    loader: { '.node': 'copy' },
    ...(engine && {
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir: string, outputDir: string) => [
          bundleWorkers(inputDir, outputDir),
          ...copyNativePackages(inputDir, outputDir),
          `echo '{"type":"module"}' > '${outputDir}/package.json'`,
        ],
      },
    }),
  };
}
