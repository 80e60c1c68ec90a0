/** A scheduled action: returns a promise when it must finish before the clock moves on. */
export type Action = () => void | Promise<void>;

export interface SimEvent {
  /** Milliseconds from the trace's start. */
  readonly at: number;
  /** Lower runs first among events at the same instant. */
  readonly phase: number;
  /** Insertion order: events of one instant and phase run in the order they were scheduled. */
  readonly seq: number;
  readonly action: Action;
}

/** A binary min-heap of events: a simulated day holds tens of thousands of them. */
export class EventQueue {
  readonly #heap: SimEvent[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(at: number, phase: number, action: Action): void {
    const heap = this.#heap;
    heap.push({ at, phase, seq: this.#seq++, action });
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      if (!before(heap[index] as SimEvent, heap[parent] as SimEvent)) {
        break;
      }
      swap(heap, index, parent);
      index = parent;
    }
  }

  pop(): SimEvent | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) {
      return top;
    }
    heap[0] = last;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && before(heap[left] as SimEvent, heap[smallest] as SimEvent)) {
        smallest = left;
      }
      if (right < heap.length && before(heap[right] as SimEvent, heap[smallest] as SimEvent)) {
        smallest = right;
      }
      if (smallest === index) {
        return top;
      }
      swap(heap, index, smallest);
      index = smallest;
    }
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at !== b.at ? a.at < b.at : a.phase !== b.phase ? a.phase < b.phase : a.seq < b.seq;
}

function swap(heap: SimEvent[], i: number, j: number): void {
  const item = heap[i] as SimEvent;
  heap[i] = heap[j] as SimEvent;
  heap[j] = item;
}
