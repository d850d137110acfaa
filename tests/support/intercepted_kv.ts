/** Deno KV handles that count or delay their reads and atomic operations, for tests and benchmarks. */

/** A KV whose `getMany` and `atomic` calls go through `around` first (to count or delay them). */
export function intercepted(
  kv: Deno.Kv,
  around: (method: "getMany" | "atomic", call: () => unknown) => unknown,
): Deno.Kv {
  return new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property !== "getMany" && property !== "atomic") return value.bind(target);
      return (...args: unknown[]) => around(property, () => value.apply(target, args));
    },
  });
}

/** A KV that counts its reads (`getMany` calls) and atomic operations. */
export function countingKv(
  kv: Deno.Kv,
): { kv: Deno.Kv; reads: () => number; atomics: () => number } {
  const counts = { getMany: 0, atomic: 0 };
  const counted = intercepted(kv, (method, call) => {
    counts[method]++;
    return call();
  });
  return { kv: counted, reads: () => counts.getMany, atomics: () => counts.atomic };
}
