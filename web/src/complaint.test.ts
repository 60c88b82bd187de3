import { describe, expect, it } from 'vitest'
import { approvalSteps, caseSteps, percent, yuan } from './complaint'

describe('complaint workflow wording', () => {
  it('offers the steps of the case state table', () => {
    expect(caseSteps('complaint', 'received', false)).toEqual(['accept', 'reject', 'merge', 'transfer'])
    expect(caseSteps('complaint', 'accepted', false)).toEqual(['agree', 'fail', 'merge', 'transfer'])
    expect(caseSteps('report', 'accepted', false)).toEqual(['open_case', 'no_case', 'merge', 'transfer'])
    expect(caseSteps('complaint', 'decided', false)).toEqual(['close'])
    expect(caseSteps('enquiry', 'received', false)).toEqual(['answer', 'merge', 'transfer'])
    expect(caseSteps('complaint', 'closed', false)).toEqual([])
    expect(caseSteps('complaint', 'received', true)).toEqual([])
  })

  it('lets an approver extend or pause an open case, and resume a paused one', () => {
    expect(approvalSteps('accepted', false, true)).toEqual(['extend', 'pause'])
    expect(approvalSteps('accepted', true, true)).toEqual(['resume'])
    expect(approvalSteps('closed', false, false)).toEqual([])
  })

  it('formats money and rates', () => {
    expect(yuan(12850)).toBe('128.50')
    expect(yuan(null)).toBe('—')
    expect(percent(0.9876)).toBe('98.8%')
  })
})
