/**
 * Groups the calls made during one turn of the event loop into one batch, run when the turn ends. A caller gets
 * its own item's outcome; a batch never fails as a whole for one bad item (the runner answers per item). Under
 * light load every batch holds one item and costs one `setImmediate` of delay; under load, work that arrived
 * together (one socket read, one burst of acknowledgements) is done together: one database statement and
 * one commit instead of one each.
 */
export type BatchRunner<I, O> = (items: I[]) => Promise<Array<PromiseSettledResult<O>>>;

export class TurnBatcher<I, O> {
  private pending: Array<{ item: I; resolve: (value: O) => void; reject: (reason: unknown) => void }> = [];

  /** `maxBatch`: a batch is started at once when it reaches this size, without waiting for the turn to end. */
  constructor(private readonly run: BatchRunner<I, O>, private readonly maxBatch = 100) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer (got ${maxBatch})`);
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let running: Promise<Array<PromiseSettledResult<O>>>;
    try {
      running = this.run(batch.map((b) => b.item));
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (results) => {
        batch.forEach((b, i) => {
          const r = results[i];
          if (!r) b.reject(new Error(`batch runner answered ${results.length} of ${batch.length} items`));
          else if (r.status === "fulfilled") b.resolve(r.value);
          else b.reject(r.reason);
        });
      },
      (err: unknown) => {
        for (const b of batch) b.reject(err);
      },
    );
  }
}
