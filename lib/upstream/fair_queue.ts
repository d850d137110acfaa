/** A queue that takes turns between users, first come first served within each user. */

/** Waiting items by user; users take turns in the order they started waiting. */
export class FairQueue<T> {
  /** One line per user with something waiting; Map order is the order of turns. */
  #lines = new Map<string, T[]>();
  #size = 0;

  /** How many items wait, over every user. */
  get size(): number {
    return this.#size;
  }

  /** Adds `item` at the back of `user`'s line, or at its front (an item that already waited). */
  push(user: string, item: T, front = false): void {
    let line = this.#lines.get(user);
    if (!line) this.#lines.set(user, line = []);
    if (front) line.unshift(item);
    else line.push(item);
    this.#size++;
  }

  /** The item whose turn it is, left in place. */
  peek(): T | undefined {
    for (const line of this.#lines.values()) return line[0];
    return undefined;
  }

  /** Takes the item whose turn it is; its user then goes to the back of the turns. */
  shift(): T | undefined {
    for (const [user, line] of this.#lines) {
      const item = line.shift()!;
      this.#lines.delete(user);
      if (line.length) this.#lines.set(user, line);
      this.#size--;
      return item;
    }
    return undefined;
  }

  /** Takes `item` out wherever it waits; false when it is not waiting. */
  remove(item: T): boolean {
    for (const [user, line] of this.#lines) {
      const at = line.indexOf(item);
      if (at === -1) continue;
      line.splice(at, 1);
      if (!line.length) this.#lines.delete(user);
      this.#size--;
      return true;
    }
    return false;
  }

  /** Takes every waiting item, in turn order. */
  drain(): T[] {
    const items: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) items.push(item);
    return items;
  }
}
