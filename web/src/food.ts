// Shared wording of the food-safety-online pages (食安在线).

/** Where in a kitchen a camera looks (hongdun_core::kitchen::PLACES). */
export const PLACES: Record<string, string> = {
  kitchen: '后厨操作区',
  prep: '切配区',
  cooking: '烹饪区',
  cold: '专间（冷食/裱花）',
  washing: '洗消间',
  storage: '食品库房',
  serving: '备餐/出餐区',
}

/** Seal warning kinds. */
export const WARN: Record<string, string> = {
  never_issued: '未发放的码',
  second_order: '一签多单',
  broken: '封签破损',
}

/** A share as a percentage with one decimal; '—' when there is nothing to count. */
export function pct(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—'
  return `${(Math.floor(rate * 1000) / 10).toFixed(1)}%`
}
