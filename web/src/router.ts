import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { can, loadSession, session } from './session'
import { whenSignedOut } from './api'

// `meta.perm`: the permission a page needs; `meta.public`: no sign-in.
const routes: RouteRecordRaw[] = [
  { path: '/login', component: () => import('./pages/Login.vue'), meta: { public: true } },
  { path: '/lookup', component: () => import('./pages/public/Lookup.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('./layouts/ConsoleLayout.vue'),
    children: [
      { path: '', component: () => import('./pages/Dashboard.vue'), meta: { perm: 'registry:entity:list' } },
      { path: 'entities', component: () => import('./pages/Entities.vue'), meta: { perm: 'registry:entity:list' } },
      { path: 'entities/new', component: () => import('./pages/EntityForm.vue'), meta: { perm: 'registry:entity:create' } },
      { path: 'entities/:uscc', component: () => import('./pages/EntityDetail.vue'), meta: { perm: 'registry:entity:list' } },
      { path: 'entities/:uscc/edit', component: () => import('./pages/EntityForm.vue'), meta: { perm: 'registry:entity:update' } },
      { path: 'licences', component: () => import('./pages/Licences.vue'), meta: { perm: 'registry:entity:list' } },
      { path: 'imports', component: () => import('./pages/Import.vue'), meta: { perm: 'registry:entity:import' } },
      { path: 'inspection/plans', component: () => import('./pages/inspection/Plans.vue'), meta: { perm: 'inspection:plan:list' } },
      { path: 'inspection/plans/:id/draw', component: () => import('./pages/inspection/Draw.vue'), meta: { perm: 'inspection:plan:list' } },
      { path: 'inspection/tasks', component: () => import('./pages/inspection/Tasks.vue'), meta: { perm: 'inspection:task:list' } },
      { path: 'inspection/tasks/:id', component: () => import('./pages/inspection/Task.vue'), meta: { perm: 'inspection:task:list' } },
      { path: 'hazards', component: () => import('./pages/Hazards.vue'), meta: { perm: 'hazard:list' } },
      { path: 'complaints', component: () => import('./pages/Complaints.vue'), meta: { perm: 'complaint:list' } },
      { path: 'food', component: () => import('./pages/Food.vue'), meta: { perm: 'food:camera:list' } },
      { path: 'food/alerts', component: () => import('./pages/food/Alerts.vue'), meta: { perm: 'food:alert:list' } },
      { path: 'food/samples', component: () => import('./pages/food/Samples.vue'), meta: { perm: 'food:sample:list' } },
      { path: 'password', component: () => import('./pages/Password.vue') },
      { path: 'system/units', component: () => import('./pages/system/Units.vue'), meta: { perm: 'system:unit:list' } },
      { path: 'system/users', component: () => import('./pages/system/Users.vue'), meta: { perm: 'system:user:list' } },
      { path: 'system/roles', component: () => import('./pages/system/Roles.vue'), meta: { perm: 'system:role:list' } },
      { path: 'system/dicts', component: () => import('./pages/system/Dicts.vue'), meta: { perm: 'system:dict:list' } },
      { path: 'system/calendar', component: () => import('./pages/system/Calendar.vue') },
      { path: 'system/audit', component: () => import('./pages/system/Audit.vue'), meta: { perm: 'system:audit:list' } },
      { path: 'system/login-log', component: () => import('./pages/system/LoginLog.vue'), meta: { perm: 'system:login-log:list' } },
      { path: 'forbidden', component: () => import('./pages/Forbidden.vue') },
    ],
  },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!session.loaded && !(await loadSession())) {
    return { path: '/login', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
  }
  if (session.user?.must_change_password && to.path !== '/password') return '/password'
  const perm = to.meta.perm as string | undefined
  if (perm && !can(perm)) {
    // The home page falls back to the first page the user may open.
    return to.path === '/' ? '/system/calendar' : '/forbidden'
  }
  return true
})

whenSignedOut(() => {
  if (router.currentRoute.value.meta.public) return
  session.loaded = false
  router.push({ path: '/login', query: { next: router.currentRoute.value.fullPath } })
})
