/** A job as the queue orders it: by arrival, then by its place in the trace. */
export interface Queued {
  readonly id: number;
  readonly arrivalMs: number;
}

/**
 * Jobs waiting for a slot, first come first served. An interrupted job goes back to its old place (by arrival), as
 * its queued time in Sourcegraph is unchanged; that is rare, so a binary-search insert into an array is cheap.
 */
export class ArrivalQueue<J extends Queued> {
  readonly #jobs: J[] = [];

  get length(): number {
    return this.#jobs.length;
  }

  add(job: J): void {
    const jobs = this.#jobs;
    let low = 0;
    let high = jobs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = jobs[middle] as J;
      if (other.arrivalMs < job.arrivalMs || (other.arrivalMs === job.arrivalMs && other.id < job.id)) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    jobs.splice(low, 0, job);
  }

  next(): J | undefined {
    return this.#jobs.shift();
  }
}
