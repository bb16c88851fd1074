/**
 * Runs the tasks of one key one after another (tasks of different keys run freely). The FsL2Adapter
 * queues stores and deletes of a key here: overlapping ones could otherwise rename and index in
 * different orders (with fsync the directory sync widens the gap), leaving the index describing one
 * write while the file holds another, and usage drifting from the disk.
 */
export class PerKeyQueue<K> {
  // The last task of each key still running.
  readonly #tails = new Map<K, Promise<void>>();

  run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key);
    const run = prev === undefined ? fn() : prev.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }
}
