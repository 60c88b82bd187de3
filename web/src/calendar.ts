// The holiday schedule as people type it: one day a line, "2027-01-01 休 元旦"
// or "2027-02-07 班 春节调休". Each bad line is reported by its number.

export interface Day {
  date: string
  is_off_day: boolean
  name: string
}

const OFF = new Set(['休', '放假', '假', 'off'])
const WORK = new Set(['班', '上班', '调休上班', 'work'])

function validDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

export function parseDays(text: string): { days: Day[]; errors: string[] } {
  const days: Day[] = []
  const errors: string[] = []
  const seen = new Set<string>()
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (!line) return
    const [date, mark, ...rest] = line.split(/\s+/)
    const n = i + 1
    if (!validDate(date)) return errors.push(`第 ${n} 行：日期“${date}”应为 YYYY-MM-DD`)
    if (!mark || (!OFF.has(mark) && !WORK.has(mark))) return errors.push(`第 ${n} 行：请注明“休”或“班”`)
    if (seen.has(date)) return errors.push(`第 ${n} 行：${date} 重复`)
    seen.add(date)
    days.push({ date, is_off_day: OFF.has(mark), name: rest.join(' ') })
  })
  days.sort((a, b) => a.date.localeCompare(b.date))
  return { days, errors }
}

export function formatDays(days: Day[]): string {
  return days.map((d) => `${d.date} ${d.is_off_day ? '休' : '班'}${d.name ? ` ${d.name}` : ''}`).join('\n')
}
