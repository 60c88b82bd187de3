// Who is signed in: user, unit, roles and permissions from /api/v1/me; the
// offices the user may narrow the view to; the chosen office.
import { computed, reactive } from 'vue'
import { get, post, setCsrf } from './api'

export interface Unit {
  id: number
  parent_id: number | null
  code: string
  name: string
  kind: 'bureau' | 'section' | 'office' | 'grid'
  jurisdiction: string[]
  enabled: boolean
  sort: number
}

export interface User {
  id: number
  username: string
  display_name: string
  unit_id: number
  phone: string | null
  cert_no: string | null
  enabled: boolean
  must_change_password: boolean
  role_ids: number[]
}

export interface Role {
  id: number
  code: string
  name: string
  scope: string
  permissions: string[]
  builtin: boolean
  enabled: boolean
  custom_units: number[]
}

interface Me {
  user: User
  unit: Unit | null
  roles: Role[]
  permissions: string[]
  csrf_token: string | null
}

export const session = reactive({
  loaded: false,
  user: null as User | null,
  unit: null as Unit | null,
  roles: [] as Role[],
  permissions: [] as string[],
  /** Units the user may see (their jurisdiction's tree). */
  units: [] as Unit[],
  /** The office the view is narrowed to, if any. */
  office: null as number | null,
  /** Names of the divisions of the user's county, by code. */
  divisionNames: {} as Record<string, string>,
})

interface Division {
  code: string
  name: string
}

/** The unit's jurisdiction in words: a county by name, townships by name. */
export function jurisdictionText(u: Unit | null, names: Record<string, string>): string {
  if (!u || u.jurisdiction.length === 0) return ''
  const list = u.jurisdiction.map((c) => names[c] ?? c)
  return list.length > 3 ? `${list.slice(0, 3).join('、')}等 ${list.length} 个` : list.join('、')
}

export const can = (perm: string) => session.permissions.includes(perm)

/** Offices the user may narrow to: shown only when there is more than one. */
export const offices = computed(() => session.units.filter((u) => u.kind === 'office'))

export async function loadSession(): Promise<boolean> {
  try {
    const me = await get<Me>('/api/v1/me')
    session.user = me.user
    session.unit = me.unit
    session.roles = me.roles
    session.permissions = me.permissions
    setCsrf(me.csrf_token)
    // The units and the names of the county's divisions, fetched side by side.
    const counties = [...new Set((me.unit?.jurisdiction ?? []).map((c) => c.slice(0, 6)))]
    const divisionLists = counties.flatMap((c) => [c, c.slice(0, 4)]).map((parent) =>
      get<{ items: Division[] }>(`/api/v1/system/divisions?parent=${parent}`).then(
        (r) => r.items,
        () => [] as Division[], // names are a nicety: codes still show
      ),
    )
    const [units, ...lists] = await Promise.all([
      can('system:unit:list') ? get<{ items: Unit[] }>('/api/v1/system/units').then((r) => r.items) : Promise.resolve([] as Unit[]),
      ...divisionLists,
    ])
    session.units = units
    const names: Record<string, string> = {}
    for (const d of lists.flat()) names[d.code] = d.name
    session.divisionNames = names
    const saved = Number(sessionStorage.getItem('hongdun.office'))
    session.office = offices.value.some((o) => o.id === saved) ? saved : null
    session.loaded = true
    return true
  } catch {
    clearSession()
    return false
  }
}

export function setOffice(id: number | null) {
  session.office = id
  if (id === null) sessionStorage.removeItem('hongdun.office')
  else sessionStorage.setItem('hongdun.office', String(id))
}

export function clearSession() {
  session.loaded = false
  session.user = null
  session.unit = null
  session.roles = []
  session.permissions = []
  session.units = []
  session.office = null
  setCsrf(null)
}

export async function login(username: string, password: string) {
  const r = await post<{ csrf_token: string | null }>('/api/v1/auth/login', { username, password })
  setCsrf(r.csrf_token)
  await loadSession()
}

export async function logout() {
  try {
    await post('/api/v1/auth/logout')
  } finally {
    clearSession()
  }
}
