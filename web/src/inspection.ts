// Shared wording of the random-inspection and hazard pages.

export const CLASSES = ['A', 'B', 'C', 'D'] as const

export type Sampling = { mode: 'ratio'; ratios: Record<string, number> } | { mode: 'count'; count: number }

/** "A 3% · B 5% …" or "固定 20 户"; ratios are basis points (500 = 5%). */
export function samplingText(s: Sampling): string {
  if (s.mode === 'count') return `固定抽取 ${s.count} 户`
  return Object.entries(s.ratios)
    .filter(([, bp]) => bp > 0)
    .map(([c, bp]) => `${c} 类 ${bp / 100}%`)
    .join(' · ')
}

export const OUTCOMES: Record<string, string> = {
  no_problem: '未发现问题',
  rectified_on_site: '发现问题已责令当场整改',
  rectification_ordered: '发现问题已责令限期整改',
  case_opened: '发现问题已立案查处',
  not_found: '未发现经营主体（通过登记的住所无法联系）',
}

export const VERDICTS: Record<string, string> = { compliant: '符合', non_compliant: '不符合', not_applicable: '不适用' }

export const HAZARD_STATES: Record<string, { label: string; type: 'info' | 'warning' | 'primary' | 'success' }> = {
  reported: { label: '已登记', type: 'info' },
  ordered: { label: '整改中', type: 'warning' },
  submitted: { label: '待复查', type: 'primary' },
  closed: { label: '已销号', type: 'success' },
}

export const HAZARD_CATEGORIES: Record<string, string> = {
  special_equipment: '特种设备',
  market: '农贸市场',
  fire: '消防',
  gas: '燃气',
  food: '食品安全',
  product: '产品质量',
  inspection: '双随机检查发现',
  other: '其他',
}

/** The actions a hazard in `state` offers (the server's transition table decides). */
export function hazardActions(state: string): string[] {
  switch (state) {
    case 'reported':
      return ['order', 'submit']
    case 'ordered':
      return ['submit']
    case 'submitted':
      return ['recheck']
    default:
      return []
  }
}
