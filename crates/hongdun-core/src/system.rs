//! Units, roles, permissions and data scope (the RuoYi model, done safely).
//!
//! Permissions are named `module:resource:action` and must come from
//! [`PERMISSIONS`]. A role carries permissions and one data scope; the effective
//! scope of a user for one permission is the union over their enabled roles that
//! grant it, and no such role means deny.
use crate::ids::{UnitId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Every permission the product knows, with its zh-CN label. Roles may only
/// carry permissions from this list.
pub const PERMISSIONS: &[(&str, &str)] = &[
    ("system:unit:list", "查看单位"),
    ("system:unit:create", "新增单位"),
    ("system:unit:update", "修改单位"),
    ("system:user:list", "查看用户"),
    ("system:user:create", "新增用户"),
    ("system:user:update", "修改用户"),
    ("system:user:reset-password", "重置密码"),
    ("system:role:list", "查看角色"),
    ("system:role:create", "新增角色"),
    ("system:role:update", "修改角色"),
    ("system:token:list", "查看接口令牌"),
    ("system:token:create", "创建接口令牌"),
    ("system:token:revoke", "吊销接口令牌"),
    ("system:dict:list", "查看字典"),
    ("system:dict:update", "修改字典"),
    ("system:setting:list", "查看参数设置"),
    ("system:setting:update", "修改参数设置"),
    ("system:audit:list", "查看操作日志"),
    ("system:audit:verify", "校验操作日志链"),
    ("system:login-log:list", "查看登录日志"),
    ("system:calendar:update", "维护节假日安排"),
    ("registry:entity:list", "查看经营主体"),
    ("registry:entity:create", "新增经营主体"),
    ("registry:entity:update", "修改经营主体"),
    ("registry:entity:import", "导入经营主体"),
    ("registry:entity:export", "导出经营主体"),
    ("inspection:item:list", "查看检查事项"),
    ("inspection:item:update", "维护检查事项"),
    ("inspection:plan:list", "查看抽查计划"),
    ("inspection:plan:create", "制定抽查计划"),
    ("inspection:draw:execute", "执行随机抽取"),
    ("inspection:task:list", "查看检查任务"),
    ("inspection:task:record", "录入检查结果"),
    ("inspection:task:publish", "公示检查结果"),
    ("hazard:list", "查看隐患"),
    ("hazard:create", "登记隐患"),
    ("hazard:handle", "隐患整改与复查"),
    ("hazard:revisit", "隐患回头看抽查"),
    ("complaint:list", "查看投诉举报"),
    ("complaint:create", "登记投诉举报"),
    ("complaint:handle", "办理投诉举报"),
    ("complaint:approve", "审批延期与中止"),
    ("complaint:rule:update", "维护投诉举报期限规则与平台"),
    ("food:seal:list", "查看食安封签"),
    ("food:seal:issue", "发放食安封签"),
    ("food:seal:bind", "封签绑定订单"),
    ("food:seal:key", "管理封签签名密钥"),
    ("food:camera:list", "查看阳光厨房"),
    ("food:camera:update", "维护阳光厨房摄像头"),
    ("food:camera:heartbeat", "上报摄像头心跳"),
    ("food:alert:ingest", "上报 AI 抓拍预警"),
    ("food:alert:list", "查看 AI 抓拍预警"),
    ("food:alert:triage", "研判 AI 抓拍预警"),
    ("food:sample:list", "查看食品抽检"),
    ("food:sample:create", "制定抽检计划、登记抽样"),
    ("food:sample:record", "录入检验结果、核查处置"),
    ("food:sample:publish", "公布抽检结果"),
];

pub fn is_known_permission(p: &str) -> bool {
    PERMISSIONS.iter().any(|(name, _)| *name == p)
}

/// Which records of regulated data a role lets its holder see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DataScope {
    /// 全部数据
    All,
    /// 自定义单位: the units listed on the role.
    CustomUnits,
    /// 本单位
    OwnUnit,
    /// 本单位及以下
    OwnUnitAndBelow,
    /// 仅本人
    SelfOnly,
}

impl DataScope {
    pub const ALL: [DataScope; 5] = [
        Self::All,
        Self::CustomUnits,
        Self::OwnUnit,
        Self::OwnUnitAndBelow,
        Self::SelfOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::CustomUnits => "custom_units",
            Self::OwnUnit => "own_unit",
            Self::OwnUnitAndBelow => "own_unit_and_below",
            Self::SelfOnly => "self_only",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// The kinds of unit in a bureau's organisation tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UnitKind {
    /// 市场监督管理局 (province, city or county level)
    Bureau,
    /// 科室 / 执法队: works across its bureau's whole jurisdiction
    Section,
    /// 市场监管所: covers one or more townships
    Office,
    /// 网格
    Grid,
}

impl UnitKind {
    pub const ALL: [UnitKind; 4] = [Self::Bureau, Self::Section, Self::Office, Self::Grid];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bureau => "bureau",
            Self::Section => "section",
            Self::Office => "office",
            Self::Grid => "grid",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
    /// A section has no territory of its own: it acts for its bureau.
    pub fn is_territorial(self) -> bool {
        !matches!(self, Self::Section)
    }
}

/// A built-in role, created by `migrate` and kept in step with the code.
pub struct BuiltinRole {
    pub code: &'static str,
    pub name: &'static str,
    pub scope: DataScope,
    pub permissions: fn() -> Vec<&'static str>,
}

fn all_permissions() -> Vec<&'static str> {
    PERMISSIONS.iter().map(|(p, _)| *p).collect()
}
fn read_permissions() -> Vec<&'static str> {
    PERMISSIONS
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| p.ends_with(":list"))
        .collect()
}
fn leader_permissions() -> Vec<&'static str> {
    let mut v = read_permissions();
    v.extend([
        "system:audit:verify",
        "registry:entity:export",
        "complaint:approve",
    ]);
    v
}
fn section_permissions() -> Vec<&'static str> {
    vec![
        "system:unit:list",
        "system:user:list",
        "system:dict:list",
        "system:setting:list",
        "registry:entity:list",
        "registry:entity:create",
        "registry:entity:update",
        "registry:entity:import",
        "registry:entity:export",
        "inspection:item:list",
        "inspection:item:update",
        "inspection:plan:list",
        "inspection:plan:create",
        "inspection:draw:execute",
        "inspection:task:list",
        "inspection:task:record",
        "inspection:task:publish",
        "hazard:list",
        "hazard:create",
        "hazard:handle",
        "hazard:revisit",
        "complaint:list",
        "complaint:create",
        "complaint:handle",
        "complaint:rule:update",
        "food:seal:list",
        "food:seal:issue",
        "food:camera:list",
        "food:camera:update",
        "food:alert:list",
        "food:alert:triage",
        "food:sample:list",
        "food:sample:create",
        "food:sample:record",
        "food:sample:publish",
    ]
}
fn inspector_permissions() -> Vec<&'static str> {
    vec![
        "system:unit:list",
        "system:dict:list",
        "registry:entity:list",
        "registry:entity:update",
        "inspection:item:list",
        "inspection:plan:list",
        "inspection:task:list",
        "inspection:task:record",
        "hazard:list",
        "hazard:create",
        "hazard:handle",
        "complaint:list",
        "complaint:create",
        "complaint:handle",
        "food:alert:list",
        "food:alert:triage",
        "food:sample:list",
        "food:sample:create",
        "food:sample:record",
    ]
}
/// Machine clients: camera gateways, AI boxes, delivery platforms binding seals.
fn gateway_permissions() -> Vec<&'static str> {
    vec![
        "food:seal:bind",
        "food:camera:heartbeat",
        "food:alert:ingest",
    ]
}
fn auditor_permissions() -> Vec<&'static str> {
    let mut v = read_permissions();
    v.push("system:audit:verify");
    v
}

pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        code: "admin",
        name: "系统管理员",
        scope: DataScope::All,
        permissions: all_permissions,
    },
    BuiltinRole {
        code: "leader",
        name: "局领导",
        scope: DataScope::OwnUnitAndBelow,
        permissions: leader_permissions,
    },
    BuiltinRole {
        code: "section_staff",
        name: "科室人员",
        scope: DataScope::OwnUnitAndBelow,
        permissions: section_permissions,
    },
    BuiltinRole {
        code: "inspector",
        name: "所队检查员",
        scope: DataScope::OwnUnitAndBelow,
        permissions: inspector_permissions,
    },
    BuiltinRole {
        code: "auditor",
        name: "审计员（只读）",
        scope: DataScope::OwnUnitAndBelow,
        permissions: auditor_permissions,
    },
    BuiltinRole {
        code: "gateway",
        name: "设备与平台接口",
        scope: DataScope::OwnUnitAndBelow,
        permissions: gateway_permissions,
    },
];

/// One unit as the scope computation needs it.
#[derive(Debug, Clone)]
pub struct UnitNode {
    pub id: UnitId,
    pub parent: Option<UnitId>,
    pub kind: UnitKind,
}

/// The organisation tree, for expanding "own unit and below".
#[derive(Debug, Clone, Default)]
pub struct UnitTree {
    nodes: HashMap<UnitId, UnitNode>,
    children: HashMap<UnitId, Vec<UnitId>>,
}

impl UnitTree {
    pub fn new(nodes: impl IntoIterator<Item = UnitNode>) -> Self {
        let mut tree = Self::default();
        for n in nodes {
            if let Some(p) = n.parent {
                tree.children.entry(p).or_default().push(n.id);
            }
            tree.nodes.insert(n.id, n);
        }
        tree
    }

    pub fn contains(&self, id: UnitId) -> bool {
        self.nodes.contains_key(&id)
    }

    /// The unit itself and every unit below it.
    pub fn subtree(&self, root: UnitId) -> BTreeSet<UnitId> {
        let mut out = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            // A corrupt tree with a cycle must not loop forever.
            if out.insert(id) {
                if let Some(kids) = self.children.get(&id) {
                    stack.extend(kids.iter().copied());
                }
            }
        }
        out
    }

    /// The unit whose territory a member of `unit` works in: the unit itself,
    /// or for a section the nearest territorial ancestor (its bureau).
    pub fn scope_anchor(&self, unit: UnitId) -> UnitId {
        let mut id = unit;
        for _ in 0..64 {
            match self.nodes.get(&id) {
                Some(n) if !n.kind.is_territorial() => match n.parent {
                    Some(p) => id = p,
                    None => return id,
                },
                _ => return id,
            }
        }
        unit
    }

    /// The unit directly above `unit`.
    pub fn parent(&self, unit: UnitId) -> Option<UnitId> {
        self.nodes.get(&unit).and_then(|n| n.parent)
    }

    /// True when `unit` is `ancestor` or lies below it.
    pub fn is_within(&self, unit: UnitId, ancestor: UnitId) -> bool {
        let mut id = Some(unit);
        for _ in 0..64 {
            match id {
                Some(x) if x == ancestor => return true,
                Some(x) => id = self.nodes.get(&x).and_then(|n| n.parent),
                None => return false,
            }
        }
        false
    }
}

/// A role as the scope computation needs it.
#[derive(Debug, Clone)]
pub struct RoleGrant {
    pub enabled: bool,
    pub scope: DataScope,
    pub custom_units: Vec<UnitId>,
    pub permissions: BTreeSet<String>,
}

/// What a user may see for one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No enabled role grants the permission.
    Denied,
    All,
    /// Records owned by these units, or (when `user` is set) owned by that user.
    Limited {
        units: BTreeSet<UnitId>,
        user: Option<UserId>,
    },
}

impl Scope {
    /// Union over the enabled roles that grant `permission`; none → `Denied`.
    pub fn resolve(
        roles: &[RoleGrant],
        permission: &str,
        user: UserId,
        user_unit: UnitId,
        tree: &UnitTree,
    ) -> Scope {
        let mut granted = false;
        let mut units = BTreeSet::new();
        let mut self_user = None;
        for role in roles
            .iter()
            .filter(|r| r.enabled && r.permissions.contains(permission))
        {
            granted = true;
            match role.scope {
                DataScope::All => return Scope::All,
                DataScope::CustomUnits => units.extend(role.custom_units.iter().copied()),
                DataScope::OwnUnit => {
                    units.insert(tree.scope_anchor(user_unit));
                }
                DataScope::OwnUnitAndBelow => {
                    units.extend(tree.subtree(tree.scope_anchor(user_unit)))
                }
                DataScope::SelfOnly => self_user = Some(user),
            }
        }
        if granted {
            Scope::Limited {
                units,
                user: self_user,
            }
        } else {
            Scope::Denied
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> UnitTree {
        // 1 bureau ─ 2 food section, 3 office A ─ 5 grid, 4 office B
        let n = |id, parent: Option<i64>, kind| UnitNode {
            id: UnitId(id),
            parent: parent.map(UnitId),
            kind,
        };
        UnitTree::new([
            n(1, None, UnitKind::Bureau),
            n(2, Some(1), UnitKind::Section),
            n(3, Some(1), UnitKind::Office),
            n(4, Some(1), UnitKind::Office),
            n(5, Some(3), UnitKind::Grid),
        ])
    }

    fn role(scope: DataScope, perms: &[&str], custom: &[i64]) -> RoleGrant {
        RoleGrant {
            enabled: true,
            scope,
            custom_units: custom.iter().map(|&i| UnitId(i)).collect(),
            permissions: perms.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn units(ids: &[i64]) -> BTreeSet<UnitId> {
        ids.iter().map(|&i| UnitId(i)).collect()
    }

    #[test]
    fn scope_table() {
        let t = tree();
        let p = "system:user:list";
        let u = UserId(9);
        let cases: Vec<(Vec<RoleGrant>, i64, Scope)> = vec![
            (vec![], 3, Scope::Denied),
            (
                vec![role(DataScope::All, &["other:x:y"], &[])],
                3,
                Scope::Denied,
            ),
            (
                vec![role(DataScope::OwnUnit, &[p], &[])],
                3,
                Scope::Limited {
                    units: units(&[3]),
                    user: None,
                },
            ),
            (
                vec![role(DataScope::OwnUnitAndBelow, &[p], &[])],
                3,
                Scope::Limited {
                    units: units(&[3, 5]),
                    user: None,
                },
            ),
            // A section acts for its bureau.
            (
                vec![role(DataScope::OwnUnitAndBelow, &[p], &[])],
                2,
                Scope::Limited {
                    units: units(&[1, 2, 3, 4, 5]),
                    user: None,
                },
            ),
            (
                vec![role(DataScope::SelfOnly, &[p], &[])],
                3,
                Scope::Limited {
                    units: units(&[]),
                    user: Some(u),
                },
            ),
            (
                vec![
                    role(DataScope::CustomUnits, &[p], &[4]),
                    role(DataScope::OwnUnit, &[p], &[]),
                ],
                3,
                Scope::Limited {
                    units: units(&[3, 4]),
                    user: None,
                },
            ),
            // Only roles granting the permission count towards the union.
            (
                vec![
                    role(DataScope::All, &["other:x:y"], &[]),
                    role(DataScope::OwnUnit, &[p], &[]),
                ],
                3,
                Scope::Limited {
                    units: units(&[3]),
                    user: None,
                },
            ),
            (
                vec![
                    role(DataScope::OwnUnit, &[p], &[]),
                    role(DataScope::All, &[p], &[]),
                ],
                3,
                Scope::All,
            ),
        ];
        for (i, (roles, unit, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                Scope::resolve(&roles, p, u, UnitId(unit), &t),
                want,
                "case {i}"
            );
        }
    }

    #[test]
    fn disabled_roles_grant_nothing() {
        let mut r = role(DataScope::All, &["system:user:list"], &[]);
        r.enabled = false;
        assert_eq!(
            Scope::resolve(&[r], "system:user:list", UserId(1), UnitId(3), &tree()),
            Scope::Denied
        );
    }

    #[test]
    fn builtin_roles_use_known_permissions() {
        for r in BUILTIN_ROLES {
            for p in (r.permissions)() {
                assert!(is_known_permission(p), "{} has unknown {p}", r.code);
            }
        }
        assert!(tree().is_within(UnitId(5), UnitId(1)));
        assert!(!tree().is_within(UnitId(4), UnitId(3)));
    }
}
