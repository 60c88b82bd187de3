// The one way the console talks to the server: JSON over /api/v1 with the
// session cookie, the CSRF header on every write, and the server's error body
// ({code, message, fields}) turned into an ApiError a form can show per field.

export interface FieldError {
  field: string
  code: string
  message: string
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public fields: FieldError[] = [],
  ) {
    super(message)
  }

  /** The messages per field, for `el-form-item :error`. */
  fieldMap(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const f of this.fields) out[f.field] = out[f.field] ? `${out[f.field]}；${f.message}` : f.message
    return out
  }
}

/** An error as a form shows it: under each field the server named, else one message. */
export function formError(e: unknown): { fields: Record<string, string>; message: string } {
  if (e instanceof ApiError && e.fields.length) return { fields: e.fieldMap(), message: '' }
  return { fields: {}, message: e instanceof Error ? e.message : String(e) }
}

let csrf: string | null = null
let onUnauthenticated: (() => void) | null = null

export function setCsrf(token: string | null) {
  csrf = token
}

export function whenSignedOut(f: () => void) {
  onUnauthenticated = f
}

export async function toApiError(r: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; fields?: FieldError[] } = {}
  try {
    body = await r.json()
  } catch {
    // not JSON: keep the status
  }
  return new ApiError(r.status, body.code ?? `http_${r.status}`, body.message ?? `请求失败（${r.status}）`, body.fields ?? [])
}

export async function request(method: string, path: string, body?: BodyInit | object, headers: Record<string, string> = {}): Promise<Response> {
  const h: Record<string, string> = { Accept: 'application/json', ...headers }
  if (method !== 'GET' && csrf) h['X-CSRF-Token'] = csrf
  let payload: BodyInit | undefined
  if (body instanceof Blob || body instanceof ArrayBuffer || typeof body === 'string') {
    payload = body as BodyInit
  } else if (body !== undefined) {
    payload = JSON.stringify(body)
    h['Content-Type'] = 'application/json'
  }
  const r = await fetch(path, { method, headers: h, body: payload, credentials: 'same-origin' })
  if (!r.ok) {
    const e = await toApiError(r)
    if (r.status === 401 && onUnauthenticated) onUnauthenticated()
    throw e
  }
  return r
}

export async function api<T>(method: string, path: string, body?: BodyInit | object): Promise<T> {
  const r = await request(method, path, body)
  if (r.status === 204) return undefined as T
  return (await r.json()) as T
}

export const get = <T>(path: string) => api<T>('GET', path)
export const post = <T>(path: string, body?: object) => api<T>('POST', path, body ?? {})
export const put = <T>(path: string, body?: object) => api<T>('PUT', path, body ?? {})

/** Downloads a file answer (exports, error reports) under the server's file name. */
export async function download(path: string, fallbackName: string) {
  const r = await request('GET', path)
  const blob = await r.blob()
  const cd = r.headers.get('content-disposition') ?? ''
  const star = /filename\*=UTF-8''([^;]+)/.exec(cd)
  const plain = /filename="([^"]+)"/.exec(cd)
  const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : fallbackName
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}

export interface Page<T> {
  items: T[]
  total: number
  page: number
  per_page: number
}

export interface StoredFile {
  id: number
  name: string
  content_type: string
  size: number
}

/** Uploads a photo or document; refer to it as `file:{id}`. */
export const uploadFile = (file: File) => api<StoredFile>('POST', `/api/v1/files?name=${encodeURIComponent(file.name)}`, file)
