import type { ObjectKey } from '@tierkv/core';
import type { ControllerClient, LookupHolder } from '@tierkv/controller';

/** Where one request goes: the worker holding the longest prefix, or none (any worker then). */
export interface Route {
  readonly holder: LookupHolder | undefined;
}

/**
 * What a KV-aware router does before each request: asks the controller which worker holds the
 * longest prefix of the prompt's chunks. With one server (the default) every route leads to it,
 * but the lookups are real (they fill the controller's lookup metrics); with `--servers` the
 * request goes to the longest holder (`--vllm` routes by score instead).
 */
export class PrefixRouter {
  readonly #controller: ControllerClient;

  constructor(controller: ControllerClient) {
    this.#controller = controller;
  }

  async route(keys: readonly ObjectKey[]): Promise<Route> {
    const first = keys[0];
    if (!first) return { holder: undefined };
    const holders = await this.#controller.lookup(
      { hashes: keys.map((k) => k.chunkHash) },
      { modelName: first.modelName, kvRank: first.kvRank, cacheSalt: first.cacheSalt },
    );
    // Holders come longest first.
    return { holder: holders[0] };
  }

  close(): void {
    this.#controller.close();
  }
}
