// Labels and small formatters shared by the pages.

export const KINDS: Record<string, string> = {
  enterprise: '企业',
  individual: '个体工商户',
  cooperative: '农民专业合作社',
  branch: '分支机构',
}

export const STATUSES: Record<string, string> = {
  active: '存续',
  revoked: '吊销',
  cancelled: '注销',
  moved_out: '迁出',
}

export const LICENCE_KINDS: Record<string, string> = {
  business: '营业执照',
  food_business: '食品经营许可证',
  food_production: '食品生产许可证',
  drug_retail: '药品经营许可证',
  medical_device: '医疗器械经营许可证',
  special_equipment: '特种设备使用登记证',
}

export const VALIDITY: Record<string, { label: string; type: 'success' | 'warning' | 'danger' | 'info' }> = {
  valid: { label: '有效', type: 'success' },
  expiring: { label: '即将到期', type: 'warning' },
  expired: { label: '已过期', type: 'danger' },
  inactive: { label: '已失效', type: 'info' },
}

/** 注册资本 in 万元 from yuan. */
export function wan(yuan: number | null | undefined): string {
  if (yuan === null || yuan === undefined) return ''
  return `${(yuan / 10_000).toLocaleString('zh-CN', { maximumFractionDigits: 4 })} 万元`
}

export function dateTime(s: string | null | undefined): string {
  if (!s) return ''
  const d = new Date(s)
  if (Number.isNaN(d.getTime())) return s
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** Field-by-field changes of a history event: [[field, before, after]]. */
export function changesOf(json: string): [string, string, string][] {
  try {
    const v = JSON.parse(json) as Record<string, [unknown, unknown]>
    return Object.entries(v).map(([k, pair]) => {
      const [a, b] = Array.isArray(pair) ? pair : [null, pair]
      const show = (x: unknown) => (x === null || x === undefined ? '—' : typeof x === 'string' ? x : JSON.stringify(x))
      return [k, show(a), show(b)]
    })
  } catch {
    return []
  }
}
