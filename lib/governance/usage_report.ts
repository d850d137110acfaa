/** Usage rows summed for reading: per user, per day and model or user, per day for a chart. */

import { type UsageRow, utcDay } from "./usage.ts";

const DAY_MS = 86_400_000;

/** Requests and tokens of some usage rows, summed. */
export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  weighted_tokens: number;
}

/** What usage can be grouped by besides the day. */
export type UsageGrouping = "model" | "user" | "service";

/** Usage of one day and one model or user. */
export type GroupedUsageRow =
  & UsageTotals
  & { date: string }
  & Partial<Record<UsageGrouping, string | null>>;

/** One day of a user's usage: the totals and each model's share. */
export interface DailyUsage extends UsageTotals {
  date: string;
  models: (UsageTotals & { model: string })[];
}

/** Zero requests and tokens. */
export function emptyTotals(): UsageTotals {
  return { requests: 0, prompt_tokens: 0, completion_tokens: 0, weighted_tokens: 0 };
}

/** Adds a row's counts to `totals` (weighted tokens stay exact to the thousandth). */
export function addUsage(totals: UsageTotals, row: UsageTotals): UsageTotals {
  totals.requests += row.requests;
  totals.prompt_tokens += row.prompt_tokens;
  totals.completion_tokens += row.completion_tokens;
  totals.weighted_tokens = Math.round((totals.weighted_tokens + row.weighted_tokens) * 1000) /
    1000;
  return totals;
}

/** Usage totals per user. */
export function totalsByUser(rows: readonly UsageRow[]): Map<string, UsageTotals> {
  const totals = new Map<string, UsageTotals>();
  for (const row of rows) {
    const sum = totals.get(row.user) ?? emptyTotals();
    totals.set(row.user, addUsage(sum, row));
  }
  return totals;
}

/** The rows summed over the other dimension: one row per day and model, or per day and user. */
export function groupUsage(rows: readonly UsageRow[], by: UsageGrouping): GroupedUsageRow[] {
  const groups = new Map<string, GroupedUsageRow>();
  for (const row of rows) {
    const id = `${row.date}\n${row[by]}`;
    const group = groups.get(id) ?? { date: row.date, [by]: row[by], ...emptyTotals() };
    groups.set(id, addUsage(group, row) as GroupedUsageRow);
  }
  return [...groups.values()].sort((a, b) =>
    a.date < b.date ? -1 : a.date > b.date ? 1 : (a[by]! < b[by]! ? -1 : 1)
  );
}

/** The last `days` UTC days up to `now`, oldest first, each with its totals and models. */
export function summarizeDays(
  rows: readonly UsageRow[],
  options: { days: number; now: number },
): DailyUsage[] {
  const days = new Map<string, DailyUsage>();
  for (let i = options.days - 1; i >= 0; i--) {
    const date = utcDay(options.now - i * DAY_MS);
    days.set(date, { date, ...emptyTotals(), models: [] });
  }
  for (const row of groupUsage(rows, "model")) {
    const day = days.get(row.date);
    if (!day) continue;
    addUsage(day, row);
    const { date: _date, ...model } = row;
    day.models.push(model as UsageTotals & { model: string });
  }
  return [...days.values()];
}
