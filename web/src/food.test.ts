import { describe, expect, it } from 'vitest'
import { pct } from './food'

describe('pct', () => {
  it('shows one decimal and never rounds a miss up to the target', () => {
    expect(pct(0.95)).toBe('95.0%')
    expect(pct(0.94996)).toBe('94.9%')
    expect(pct(1)).toBe('100.0%')
    expect(pct(0)).toBe('0.0%')
  })
  it('shows a dash when nothing was counted', () => {
    expect(pct(null)).toBe('—')
    expect(pct(undefined)).toBe('—')
  })
})
