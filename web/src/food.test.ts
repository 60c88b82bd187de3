import { describe, expect, it } from 'vitest'
import { pct, sampleSteps, termLabel } from './food'

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

describe('sampleSteps', () => {
  it('offers results only before testing', () => {
    expect(sampleSteps('sampled', 0)).toEqual(['results'])
  })
  it('never offers closing a failed sample before a disposal step', () => {
    expect(sampleSteps('failed', 0)).toEqual(['dispose'])
    expect(sampleSteps('disposing', 0)).toEqual(['dispose'])
    expect(sampleSteps('disposing', 1)).toEqual(['dispose', 'close'])
  })
  it('offers nothing on passed or closed samples', () => {
    expect(sampleSteps('passed', 0)).toEqual([])
    expect(sampleSteps('closed', 2)).toEqual([])
  })
})

describe('termLabel', () => {
  it('falls back to the code', () => {
    expect(termLabel([{ code: 'rodent', label: '老鼠出没' }], 'rodent')).toBe('老鼠出没')
    expect(termLabel(undefined, 'x')).toBe('x')
  })
})
