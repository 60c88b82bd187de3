// The console menu, built from the signed-in user's permissions: an entry shows
// only when the user holds its permission, a group only when one of its entries shows.

export interface MenuItem {
  path: string
  title: string
  /** The permission the page needs; none means every signed-in user. */
  perm?: string
}

export interface MenuGroup {
  key: string
  title: string
  icon: string
  items: MenuItem[]
}

export const MENU: MenuGroup[] = [
  {
    key: 'home',
    title: 'menu.home',
    icon: 'DataBoard',
    items: [{ path: '/', title: 'menu.dashboard', perm: 'registry:entity:list' }],
  },
  {
    key: 'registry',
    title: 'menu.registry',
    icon: 'OfficeBuilding',
    items: [
      { path: '/entities', title: 'menu.entities', perm: 'registry:entity:list' },
      { path: '/entities/new', title: 'menu.entityNew', perm: 'registry:entity:create' },
      { path: '/licences', title: 'menu.licences', perm: 'registry:entity:list' },
      { path: '/imports', title: 'menu.import', perm: 'registry:entity:import' },
    ],
  },
  {
    key: 'inspection',
    title: 'menu.inspection',
    icon: 'Aim',
    items: [
      { path: '/inspection/plans', title: 'menu.plans', perm: 'inspection:plan:list' },
      { path: '/inspection/tasks', title: 'menu.tasks', perm: 'inspection:task:list' },
      { path: '/hazards', title: 'menu.hazards', perm: 'hazard:list' },
    ],
  },
  {
    key: 'complaint',
    title: 'menu.complaint',
    icon: 'ChatLineSquare',
    items: [{ path: '/complaints', title: 'menu.complaints', perm: 'complaint:list' }],
  },
  {
    key: 'food',
    title: 'menu.food',
    icon: 'Food',
    items: [
      { path: '/food', title: 'menu.foodOnline', perm: 'food:seal:list' },
      { path: '/food?tab=cameras', title: 'menu.kitchens', perm: 'food:camera:list' },
      { path: '/food/alerts', title: 'menu.alerts', perm: 'food:alert:list' },
      { path: '/food/samples', title: 'menu.samples', perm: 'food:sample:list' },
    ],
  },
  {
    key: 'system',
    title: 'menu.system',
    icon: 'Setting',
    items: [
      { path: '/system/units', title: 'menu.units', perm: 'system:unit:list' },
      { path: '/system/users', title: 'menu.users', perm: 'system:user:list' },
      { path: '/system/roles', title: 'menu.roles', perm: 'system:role:list' },
      { path: '/system/dicts', title: 'menu.dicts', perm: 'system:dict:list' },
      { path: '/system/calendar', title: 'menu.calendar' },
      { path: '/system/audit', title: 'menu.audit', perm: 'system:audit:list' },
      { path: '/system/login-log', title: 'menu.loginLog', perm: 'system:login-log:list' },
    ],
  },
]

export function menuFor(perms: readonly string[], menu: MenuGroup[] = MENU): MenuGroup[] {
  const held = new Set(perms)
  return menu
    .map((g) => ({ ...g, items: g.items.filter((i) => !i.perm || held.has(i.perm)) }))
    .filter((g) => g.items.length > 0)
}
