/**
 * How every Lambda is bundled. The stack hands these settings to NodejsFunction, and `npm run bench`
 * hands the esbuild options NodejsFunction derives from them to esbuild, so the bundle sizes the bench
 * prints are the sizes that are deployed. No CDK import here: the bench loads this file too.
 */
export const LAMBDA_BUNDLING = {
  minify: true,
  sourceMap: true,
  target: "node22",
  // Prefer dependencies' ESM builds, which esbuild can tree-shake.
  mainFields: ["module", "main"],
  // The runtime provides AWS SDK v3; naming it here keeps the bench and the stack from drifting apart
  // on CDK's default (which a feature flag can change).
  externalModules: ["@aws-sdk/*"],
  // ESM bundles of CommonJS dependencies need a require().
  banner: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);",
} as const;

/**
 * The esbuild build options equivalent to NodejsFunction's command line for LAMBDA_BUNDLING with
 * `format: OutputFormat.ESM` (`--bundle --platform=node --format=esm --outfile=index.mjs --minify
 * --sourcemap --external:… --banner:js=… --main-fields=…`).
 */
export function lambdaEsbuildOptions(entry: string) {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: "node" as const,
    format: "esm" as const,
    target: LAMBDA_BUNDLING.target,
    outfile: "index.mjs",
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    external: [...LAMBDA_BUNDLING.externalModules],
    banner: { js: LAMBDA_BUNDLING.banner },
    mainFields: [...LAMBDA_BUNDLING.mainFields],
  };
}
