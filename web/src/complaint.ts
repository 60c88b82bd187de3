// Shared wording of complaints (投诉举报) and the steps the workflow offers,
// mirroring hongdun_core::complaint::case_next.

export const CASE_KINDS: Record<string, string> = { complaint: '投诉', report: '举报', enquiry: '咨询' }

export const CASE_STATES: Record<string, { label: string; type: 'info' | 'warning' | 'success' | 'danger' | 'primary' }> = {
  received: { label: '待处理', type: 'warning' },
  accepted: { label: '处理中', type: 'primary' },
  decided: { label: '待回访/答复', type: 'info' },
  closed: { label: '已办结', type: 'success' },
  merged: { label: '已合并', type: 'info' },
}

export const CASE_CATEGORIES: Record<string, string> = {
  food: '食品安全', product_quality: '产品质量', price: '价格收费', advertising: '广告宣传',
  contract: '合同格式条款', service: '服务质量', drug: '药品', medical_device: '医疗器械',
  cosmetics: '化妆品', special_equipment: '特种设备', ip: '知识产权', metrology: '计量',
  licensing: '无照无证经营', other: '其他',
}

export const SATISFACTION: Record<string, string> = {
  satisfied: '满意', basically_satisfied: '基本满意', dissatisfied: '不满意', unreachable: '无法联系',
}

export const ACTION_NAMES: Record<string, string> = {
  receive: '登记', accept: '受理', reject: '不予受理', agree: '调解成功', fail: '调解不成',
  open_case: '立案', no_case: '不予立案', close: '办结', answer: '答复', merge: '合并',
  transfer: '移送', extend: '延长期限', pause: '中止', resume: '恢复办理', respondent: '确认被投诉人',
}

/** The workflow steps a case offers: by kind and state; none while paused. */
export function caseSteps(kind: string, state: string, paused: boolean): string[] {
  if (paused) return []
  const open = state === 'received' || state === 'accepted'
  const steps: string[] = []
  if (kind === 'enquiry') {
    if (state === 'received') steps.push('answer')
  } else if (state === 'received') {
    steps.push('accept', 'reject')
  } else if (state === 'accepted') {
    steps.push(...(kind === 'complaint' ? ['agree', 'fail'] : ['open_case', 'no_case']))
  } else if (state === 'decided') {
    steps.push('close')
  }
  if (open) steps.push('merge', 'transfer')
  return steps
}

/** The approver's steps (延期、中止、恢复). */
export function approvalSteps(state: string, paused: boolean, hasDue: boolean): string[] {
  if (state === 'closed' || state === 'merged') return []
  if (paused) return ['resume']
  return hasDue ? ['extend', 'pause'] : ['pause']
}

/** Fen → yuan text. */
export function yuan(fen: number | null | undefined): string {
  if (fen == null) return '—'
  return (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}

export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`
}
