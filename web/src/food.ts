// Shared wording of the food-safety-online pages (食安在线).
import { get } from './api'

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

/** One entry of a fixed vocabulary the server checks against. */
export interface Term { code: string; label: string }
export interface FoodTerms { violations: Term[]; categories: Term[]; place_kinds: Term[]; disposals: Term[] }

let terms: Promise<FoodTerms> | null = null

/** The vocabularies, read once per page load and shared by the food pages. */
export function foodTerms(): Promise<FoodTerms> {
  terms ??= get<FoodTerms>('/api/v1/food/terms').catch((e) => {
    terms = null
    throw e
  })
  return terms
}

/** Stages of an AI alert (AlertView.stage) and their tag colours. */
export const ALERT_STAGES: Record<string, { label: string; type: 'warning' | 'info' | 'danger' | 'success' }> = {
  pending: { label: '待研判', type: 'warning' },
  dismissed: { label: '已排除（误报）', type: 'info' },
  rectifying: { label: '整改中', type: 'danger' },
  closed: { label: '已复查销号', type: 'success' },
}

/** Sample states (hongdun_core::food_sample::SampleState) and their tag colours. */
export const SAMPLE_STATES: Record<string, { label: string; type: 'warning' | 'info' | 'danger' | 'success' | 'primary' }> = {
  sampled: { label: '待检验', type: 'info' },
  passed: { label: '合格', type: 'success' },
  failed: { label: '不合格（待处置）', type: 'danger' },
  disposing: { label: '核查处置中', type: 'warning' },
  closed: { label: '处置完毕', type: 'primary' },
}

/** What a person may do next with a sample in `state` (mirrors `sample_next`). */
export function sampleSteps(state: string, disposals: number): ('results' | 'dispose' | 'close')[] {
  if (state === 'sampled') return ['results']
  if (state === 'failed') return ['dispose']
  if (state === 'disposing') return disposals > 0 ? ['dispose', 'close'] : ['dispose']
  return []
}

/** Label of `code` in a vocabulary, or the code itself. */
export const termLabel = (list: Term[] | undefined, code: string) => list?.find((t) => t.code === code)?.label ?? code
