import { describe, expect, it } from 'vitest'
import { hazardActions, samplingText } from './inspection'

describe('inspection wording', () => {
  it('shows ratios in percent from basis points, skipping zero classes', () => {
    expect(samplingText({ mode: 'ratio', ratios: { A: 300, B: 500, C: 0, D: 6000 } })).toBe('A 类 3% · B 类 5% · D 类 60%')
    expect(samplingText({ mode: 'count', count: 20 })).toBe('固定抽取 20 户')
  })

  it('offers only the steps the hazard loop allows: nothing closes without evidence and a re-check', () => {
    expect(hazardActions('reported')).toEqual(['order', 'submit'])
    expect(hazardActions('ordered')).toEqual(['submit'])
    expect(hazardActions('submitted')).toEqual(['recheck'])
    expect(hazardActions('closed')).toEqual([])
  })
})
