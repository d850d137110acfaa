/** The layout's one-way import rule: each folder of lib/ imports only the folders below it. */

import assert from "node:assert/strict";

const LIB = new URL("../lib/", import.meta.url);

/** What each part of lib/ may import (besides itself); a top-level file is a part of its own. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  upstream: ["core"],
  governance: ["core"],
  docs_page: ["core"],
  chat: ["core", "upstream"],
  openai: ["core", "chat"],
  anthropic: ["core", "chat"],
  responses: ["core", "chat"],
  admin: ["core", "governance", "docs_page"],
  routes: ["core", "governance"],
  route_table: ["*"],
  service_target: ["core", "route_table"],
  app: ["*"],
};

/** The part of lib/ a lib-relative path belongs to: its folder, or the file's own name. */
function partOf(path: string): string {
  const [first] = path.split("/");
  return path.includes("/") ? first : first.replace(/\.ts$/, "");
}

async function* sources(dir: URL, prefix = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = prefix + entry.name;
    if (entry.isDirectory) yield* sources(new URL(`${entry.name}/`, dir), `${path}/`);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Every `lib/`-internal import: [importer, imported], both relative to lib/. */
async function imports(): Promise<[string, string][]> {
  const edges: [string, string][] = [];
  for await (const path of sources(LIB)) {
    const text = await Deno.readTextFile(new URL(path, LIB));
    for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = new URL(spec, new URL(path, LIB)).pathname.slice(LIB.pathname.length);
      edges.push([path, target]);
    }
  }
  return edges;
}

Deno.test("lib/ folders import only the folders below them", async () => {
  const edges = await imports();
  assert.ok(edges.length > 50, "the imports of lib/ were found");
  const wrong = edges.filter(([from, to]) => {
    const [a, b] = [partOf(from), partOf(to)];
    const allowed = ALLOWED[a];
    assert.ok(allowed, `lib/${from} belongs to a part named in ALLOWED`);
    return a !== b && !allowed.includes("*") && !allowed.includes(b);
  });
  assert.deepEqual(wrong.map(([from, to]) => `${from} -> ${to}`), []);
});

Deno.test("lib/ has no import cycle", async () => {
  const edges = await imports();
  const next = new Map<string, string[]>();
  for (const [from, to] of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const state = new Map<string, "open" | "done">();
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === "done") return;
    assert.notEqual(state.get(file), "open", `import cycle: ${[...path, file].join(" -> ")}`);
    state.set(file, "open");
    for (const to of next.get(file) ?? []) visit(to, [...path, file]);
    state.set(file, "done");
  };
  for (const file of next.keys()) visit(file, []);
});
