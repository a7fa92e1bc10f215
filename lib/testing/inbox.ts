/**
 * What the kit's awaitable helpers share: a list of things received in order, and promises of the
 * next one of a kind that resolve at once if it is already there. When nothing more can come (the
 * connection closed), a wait that nothing answered rejects instead of hanging the test.
 */

interface Waiter<T> {
  kind: string;
  match: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (error: Error) => void;
}

export class Inbox<T> {
  readonly items: T[] = [];
  /** Per kind, the index after the last item a `next` of that kind returned. */
  private readonly cursors = new Map<string, number>();
  private waiters: Waiter<T>[] = [];
  /** Once finishing began: the error a wait of a kind gets, or null if that kind may still come. */
  private refusal: ((kind: string) => Error | null) | null = null;

  push(item: T): void {
    this.items.push(item);
    const index = this.items.length - 1;
    this.waiters = this.waiters.filter((waiter) => {
      if ((this.cursors.get(waiter.kind) ?? 0) > index || !waiter.match(item)) return true;
      this.cursors.set(waiter.kind, index + 1);
      waiter.resolve(item);
      return false;
    });
  }

  /**
   * The first item `match` accepts after the one the last `next` of this `kind` returned: resolved
   * at once if it has arrived, else when it does; rejected if `finish` says none will.
   */
  next(kind: string, match: (item: T) => boolean): Promise<T> {
    const from = this.cursors.get(kind) ?? 0;
    for (let i = from; i < this.items.length; i++) {
      if (match(this.items[i])) {
        this.cursors.set(kind, i + 1);
        return Promise.resolve(this.items[i]);
      }
    }
    const refused = this.refusal?.(kind) ?? null;
    if (refused !== null) return Promise.reject(refused);
    return new Promise((resolve, reject) => this.waiters.push({ kind, match, resolve, reject }));
  }

  /**
   * Nothing more of some kinds will arrive: waits of a kind for which `refuse` gives an error reject
   * with it, now and later (when nothing already received answers them). A later call replaces it.
   */
  finish(refuse: (kind: string) => Error | null): void {
    this.refusal = refuse;
    this.waiters = this.waiters.filter((waiter) => {
      const error = refuse(waiter.kind);
      if (error === null) return true;
      waiter.reject(error);
      return false;
    });
  }
}
