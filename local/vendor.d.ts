// dynalite ships no type declarations; this is the part of its API the local runtime uses.
declare module "dynalite" {
  import type { Server } from "node:http";
  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}

// asl-validator ships JavaScript only; this is the call the tests make.
declare module "asl-validator" {
  export default function aslValidator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): { isValid: boolean; errors: unknown[]; errorsText: (separator?: string) => string };
}
