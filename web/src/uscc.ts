// The unified social credit code (GB 32100-2015) checked in the browser, so a
// form says what is wrong before it is sent. The server checks again and is the
// authority; the error codes are the server's.

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

export type UsccCheck =
  | { ok: true; code: string }
  | { ok: false; code: 'uscc_length' | 'uscc_charset' | 'uscc_checksum'; message: string }

/** Full-width letters and digits to half-width, spaces removed, upper case. */
export function normalizeCode(s: string): string {
  let out = ''
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCodePoint(c - 0xfee0)
    else if (!/\s/.test(ch) && ch !== '\u3000') out += ch
  }
  return out.toUpperCase()
}

export function usccCheckChar(first17: string): string | null {
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const v = ALPHABET.indexOf(first17[i] ?? '')
    if (v < 0) return null
    sum += v * WEIGHTS[i]
  }
  return ALPHABET[(31 - (sum % 31)) % 31]
}

export function orgCheckChar(first8: string): string | null {
  let sum = 0
  for (let i = 0; i < 8; i++) {
    const ch = first8[i] ?? ''
    let v: number
    if (ch >= '0' && ch <= '9') v = ch.charCodeAt(0) - 48
    else if (ch >= 'A' && ch <= 'Z') v = ch.charCodeAt(0) - 55
    else return null
    sum += v * ORG_WEIGHTS[i]
  }
  const c = 11 - (sum % 11)
  return c === 10 ? 'X' : c === 11 ? '0' : String(c)
}

export function checkUscc(input: string): UsccCheck {
  const s = normalizeCode(input)
  const n = [...s].length
  if (n !== 18) return { ok: false, code: 'uscc_length', message: `统一社会信用代码应为 18 位，现为 ${n} 位` }
  for (let i = 0; i < 18; i++) {
    if (!ALPHABET.includes(s[i])) {
      return { ok: false, code: 'uscc_charset', message: `第 ${i + 1} 位“${s[i]}”不是有效字符` }
    }
  }
  const expected = usccCheckChar(s.slice(0, 17))
  if (s[17] !== expected) {
    return { ok: false, code: 'uscc_checksum', message: `校验位应为 ${expected}` }
  }
  const org = orgCheckChar(s.slice(8, 16))
  if (s[16] !== org) {
    return { ok: false, code: 'uscc_checksum', message: `组织机构代码校验位应为 ${org}` }
  }
  return { ok: true, code: s }
}
