import type { ObjectKey } from '@tierkv/core';
import type { ControllerClient } from '@tierkv/controller';

/** The best-scored worker of one request, or none when no worker holds its first block. */
export interface ScoredRoute {
  /** The vLLM publisher name of the best-scored worker (`vllmPublishers[].name`). */
  readonly worker: string;
  /** Blocks of the request's prefix that worker holds, in any medium. */
  readonly blocks: number;
  readonly score: number;
}

/** A tierkv chunk hash (16 hex digits) as the uint64 decimal string the VllmEventPublisher publishes it as. */
export function chunkHashToBlockHash(chunkHash: string): string {
  return BigInt(`0x${chunkHash}`).toString();
}

/**
 * What an llm-d-style router does before each request of `tierkv demo --vllm`: asks the controller
 * to score the workers (the vLLM publishers it follows) by the longest prefix of the request's
 * blocks each holds, weighted by medium, and picks the best. The blocks are the request's tierkv
 * chunk hashes, which is what each demo server's VllmEventPublisher publishes.
 */
export class ScoreRouter {
  readonly #controller: ControllerClient;
  readonly #model: string;

  constructor(controller: ControllerClient, model: string) {
    this.#controller = controller;
    this.#model = model;
  }

  async route(keys: readonly ObjectKey[]): Promise<ScoredRoute | undefined> {
    if (keys.length === 0) return undefined;
    const workers = await this.#controller.score({ model: this.#model, blockHashes: keys.map((k) => chunkHashToBlockHash(k.chunkHash)) });
    // Best first; a score of 0 means no worker holds block 0: any worker will do.
    const best = workers[0];
    return best && best.score > 0 ? { worker: best.worker, blocks: best.blocks, score: best.score } : undefined;
  }

  close(): void {
    this.#controller.close();
  }
}
