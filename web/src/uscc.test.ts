import { describe, expect, it } from 'vitest'
import { checkUscc, normalizeCode, orgCheckChar, usccCheckChar } from './uscc'

// Codes built with the server's generator (hongdun-core Uscc::with_check) and
// the standard's published example organisation code.
describe('credit code', () => {
  it('accepts a valid code, after normalising full-width and spaces', () => {
    const first17 = '91331023MA2AB1234'
    // fix the organisation check character (position 17) first
    const org = orgCheckChar(first17.slice(8, 16))!
    const base = first17.slice(0, 16) + org
    const code = base + usccCheckChar(base)!
    expect(checkUscc(code)).toEqual({ ok: true, code })
    const wide = [...code].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join('')
    expect(checkUscc(` ${wide} `)).toEqual({ ok: true, code })
  })

  it('names the error the server names', () => {
    expect(checkUscc('9133').ok).toBe(false)
    expect(checkUscc('9133').code).toBe('uscc_length')
    expect(checkUscc('91331023MA2AB1234I').code).toBe('uscc_charset')
    const base = '91331023MA2AB123'
    const org = orgCheckChar(base.slice(8, 16))!
    const good = base + org + usccCheckChar(base + org)!
    const last = good[17] === '0' ? '1' : '0'
    const bad = good.slice(0, 17) + last
    const r = checkUscc(bad)
    expect(r.code).toBe('uscc_checksum')
    if (!r.ok) expect(r.message).toContain(good[17])
  })

  it('accepts the examples of DOMAIN.md §1', () => {
    for (const c of ['91350100M000100Y43', '91350200776049653A', '91440101MA5CJQ4N59', '91350213678251743X', '123502001549897397']) {
      expect(checkUscc(c)).toEqual({ ok: true, code: c })
    }
    expect(orgCheckChar('77604965')).toBe('3')
  })

  it('normalises', () => {
    expect(normalizeCode('９１ ３３\u3000ab')).toBe('9133AB')
  })
})
