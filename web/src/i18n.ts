// Simplified Chinese first; English switchable and remembered in the browser.
import { computed, ref } from 'vue'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import en from 'element-plus/es/locale/lang/en'

export type Lang = 'zh-CN' | 'en'

const zh: Record<string, string> = {
  'app.name': '红盾 · 市场监管数字化平台',
  'app.short': '红盾',
  'menu.home': '首页',
  'menu.dashboard': '工作台',
  'menu.registry': '经营主体',
  'menu.entities': '主体名录',
  'menu.entityNew': '新增主体',
  'menu.licences': '许可证预警',
  'menu.import': '批量导入',
  'menu.inspection': '双随机抽查',
  'menu.plans': '抽查计划',
  'menu.tasks': '检查任务',
  'menu.hazards': '隐患闭环',
  'menu.complaint': '投诉举报',
  'menu.complaints': '投诉举报处理',
  'menu.food': '食安在线',
  'menu.foodOnline': '食安封签',
  'menu.kitchens': '阳光厨房',
  'menu.alerts': 'AI 抓拍预警',
  'menu.samples': '食品抽检',
  'menu.system': '系统管理',
  'menu.units': '组织机构',
  'menu.users': '用户管理',
  'menu.roles': '角色权限',
  'menu.dicts': '数据字典',
  'menu.calendar': '节假日安排',
  'menu.audit': '操作日志',
  'menu.loginLog': '登录日志',
  'login.title': '登录',
  'login.username': '用户名',
  'login.password': '密码',
  'login.submit': '登 录',
  'login.lookup': '公众查询商户许可信息',
  'user.password': '修改密码',
  'user.logout': '退出登录',
  'scope.unit': '所属单位',
  'scope.jurisdiction': '辖区',
  'scope.allOffices': '全部监管所',
  'common.search': '查询',
  'common.reset': '重置',
  'common.export': '导出',
  'common.save': '保存',
  'common.cancel': '取消',
  'common.edit': '编辑',
  'common.detail': '详情',
  'common.total': '共 {n} 条',
}

const enMsgs: Record<string, string> = {
  'app.name': 'Hongdun · Market Regulation Platform',
  'app.short': 'Hongdun',
  'menu.home': 'Home',
  'menu.dashboard': 'Dashboard',
  'menu.registry': 'Businesses',
  'menu.entities': 'Register',
  'menu.entityNew': 'New business',
  'menu.licences': 'Licence alerts',
  'menu.import': 'Import',
  'menu.inspection': 'Inspections',
  'menu.plans': 'Plans',
  'menu.tasks': 'Tasks',
  'menu.hazards': 'Hazards',
  'menu.complaint': 'Complaints',
  'menu.complaints': 'Complaints & reports',
  'menu.food': 'Food safety online',
  'menu.foodOnline': 'Delivery seals',
  'menu.kitchens': 'Sunshine kitchens',
  'menu.alerts': 'AI capture alerts',
  'menu.samples': 'Food sampling',
  'menu.system': 'System',
  'menu.units': 'Units',
  'menu.users': 'Users',
  'menu.roles': 'Roles',
  'menu.dicts': 'Dictionaries',
  'menu.calendar': 'Holidays',
  'menu.audit': 'Audit log',
  'menu.loginLog': 'Sign-in log',
  'login.title': 'Sign in',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.lookup': 'Public merchant lookup',
  'user.password': 'Change password',
  'user.logout': 'Sign out',
  'scope.unit': 'Unit',
  'scope.jurisdiction': 'Jurisdiction',
  'scope.allOffices': 'All offices',
  'common.search': 'Search',
  'common.reset': 'Reset',
  'common.export': 'Export',
  'common.save': 'Save',
  'common.cancel': 'Cancel',
  'common.edit': 'Edit',
  'common.detail': 'Detail',
  'common.total': '{n} in all',
}

const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('hongdun.lang') : null
export const lang = ref<Lang>(stored === 'en' ? 'en' : 'zh-CN')

export function setLang(l: Lang) {
  lang.value = l
  localStorage.setItem('hongdun.lang', l)
  document.documentElement.lang = l
}

/** The message for `key` in the current language, `{name}` placeholders filled. */
export function t(key: string, args: Record<string, string | number> = {}): string {
  const table = lang.value === 'en' ? enMsgs : zh
  const msg = table[key] ?? zh[key] ?? key
  return msg.replace(/\{(\w+)\}/g, (_, k: string) => String(args[k] ?? `{${k}}`))
}

export const elementLocale = computed(() => (lang.value === 'en' ? en : zhCn))
