// Filters ⇄ query strings: the list pages keep their filters in the address,
// so a search can be bookmarked, shared and reloaded.

export type Filters = Record<string, string | number | null | undefined>

/** A query string of the non-empty filters, in a stable (sorted) order. */
export function toQuery(f: Filters): string {
  const p = new URLSearchParams()
  for (const k of Object.keys(f).sort()) {
    const v = f[k]
    if (v === null || v === undefined) continue
    const s = String(v).trim()
    if (s !== '') p.set(k, s)
  }
  const q = p.toString()
  return q ? `?${q}` : ''
}

/** Reads string filters back from a route query, keeping only `keys`. */
export function fromQuery(q: Record<string, unknown>, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of keys) {
    const v = Array.isArray(q[k]) ? q[k][0] : q[k]
    out[k] = typeof v === 'string' ? v : ''
  }
  return out
}

/** A positive page number from the query, else 1. */
export function pageOf(v: unknown): number {
  const n = Number(Array.isArray(v) ? v[0] : v)
  return Number.isInteger(n) && n > 0 ? n : 1
}
