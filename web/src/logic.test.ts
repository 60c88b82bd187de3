import { describe, expect, it } from 'vitest'
import { MENU, menuFor } from './menu'
import { fromQuery, pageOf, toQuery } from './query'
import { buildTree } from './tree'
import { formatDays, parseDays } from './calendar'
import { jurisdictionText } from './session'
import { changesOf } from './format'

describe('menu', () => {
  it('shows only what the permissions allow, and drops empty groups', () => {
    const inspector = menuFor(['registry:entity:list', 'system:unit:list'])
    expect(inspector.map((g) => g.key)).toEqual(['home', 'registry', 'system'])
    expect(inspector.find((g) => g.key === 'registry')!.items.map((i) => i.path)).toEqual(['/entities', '/licences'])
    expect(inspector.find((g) => g.key === 'system')!.items.map((i) => i.path)).toEqual(['/system/units', '/system/calendar'])
    const nobody = menuFor([])
    expect(nobody.map((g) => g.key)).toEqual(['system'])
    const all = menuFor(MENU.flatMap((g) => g.items.map((i) => i.perm ?? '')))
    expect(all.flatMap((g) => g.items).length).toBe(MENU.flatMap((g) => g.items).length)
  })
})

describe('query strings', () => {
  it('drops empty filters and sorts keys', () => {
    expect(toQuery({ q: '面馆', kind: '', page: 2, status: null, tag: undefined })).toBe(`?page=2&q=${encodeURIComponent('面馆')}`)
    expect(toQuery({})).toBe('')
  })
  it('reads back only known keys', () => {
    expect(fromQuery({ q: 'a', x: 'y', kind: ['individual', 'b'] }, ['q', 'kind', 'status'])).toEqual({ q: 'a', kind: 'individual', status: '' })
    expect(pageOf('3')).toBe(3)
    expect(pageOf('-1')).toBe(1)
    expect(pageOf('abc')).toBe(1)
  })
})

describe('unit tree', () => {
  it('nests, orders by sort then id, and keeps orphans as roots', () => {
    const t = buildTree([
      { id: 3, parent_id: 1, sort: 2 },
      { id: 1, parent_id: null },
      { id: 2, parent_id: 1, sort: 1 },
      { id: 9, parent_id: 42 },
    ])
    expect(t.map((n) => n.id)).toEqual([1, 9])
    expect(t[0].children!.map((n) => n.id)).toEqual([2, 3])
  })
})

describe('holiday schedule text', () => {
  it('parses, sorts and reports each bad line', () => {
    const r = parseDays('2027-02-07 班 春节调休\n2027-01-01 休 元旦\n\n2027-02-30 休\n2027-03-01 x\n2027-01-01 休')
    expect(r.days).toEqual([
      { date: '2027-01-01', is_off_day: true, name: '元旦' },
      { date: '2027-02-07', is_off_day: false, name: '春节调休' },
    ])
    expect(r.errors).toEqual([
      '第 4 行：日期“2027-02-30”应为 YYYY-MM-DD',
      '第 5 行：请注明“休”或“班”',
      '第 6 行：2027-01-01 重复',
    ])
    expect(parseDays(formatDays(r.days)).days).toEqual(r.days)
  })
})

describe('jurisdiction text', () => {
  const unit = { id: 1, parent_id: null, code: 'x', name: '赤城所', kind: 'office' as const, enabled: true, sort: 0, jurisdiction: ['331023001', '331023002'] }
  it('names townships, codes when unknown, and shortens long lists', () => {
    expect(jurisdictionText(unit, { '331023001': '赤城街道' })).toBe('赤城街道、331023002')
    const many = { ...unit, jurisdiction: ['1', '2', '3', '4', '5'] }
    expect(jurisdictionText(many, { 1: '甲', 2: '乙', 3: '丙' })).toBe('甲、乙、丙等 5 个')
    expect(jurisdictionText(null, {})).toBe('')
  })
})

describe('history changes', () => {
  it('lists before and after, and survives junk', () => {
    expect(changesOf('{"name":["甲","乙"],"phone":[null,"***"]}')).toEqual([
      ['name', '甲', '乙'],
      ['phone', '—', '***'],
    ])
    expect(changesOf('not json')).toEqual([])
  })
})

describe('form errors', () => {
  it('puts field errors under their fields, anything else in one message', async () => {
    const { ApiError, formError } = await import('./api')
    const fields = new ApiError(422, 'validation_failed', '校验失败', [
      { field: 'name', code: 'required', message: '名称不能为空' },
      { field: 'name', code: 'too_long', message: '名称过长' },
    ])
    expect(formError(fields)).toEqual({ fields: { name: '名称不能为空；名称过长' }, message: '' })
    expect(formError(new ApiError(403, 'forbidden', '无权操作'))).toEqual({ fields: {}, message: '无权操作' })
    expect(formError(new Error('网络错误'))).toEqual({ fields: {}, message: '网络错误' })
  })
})
