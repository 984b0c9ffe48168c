"""The demo county's logins, for the CLI's table and the login page (demo mode only).

Plain data, importable before Django is set up. The accounts themselves are made by
the generator (`pingan.demo.county.plan` lists HUMAN_LOGINS; `pingan.demo.county.structure`
gives them DEMO_PASSWORD).
"""

DEMO_PASSWORD = "pingan-demo"

# (username, role as people say it, the page it opens on)
DEMO_LOGINS = [
    ("commander", "指挥员（县局指挥中心）", "/console/"),
    ("chief1", "派出所所长（城关所）", "/console/disputes/"),
    ("officer1", "社区民警", "/unit/"),
    ("aux1", "辅警", "/unit/"),
    ("grid1", "网格员", "/disputes/mine/"),
    ("volunteer1", "义警", "/volunteer/"),
    ("leader1", "义警队长", "/volunteer/teams/"),
    ("citizen1", "群众", "/report/"),
    ("clerk1", "爱心超市店员", "/shop/verify/"),
    ("admin", "超级管理员（操作全程审计）", "/admin/"),
    ("sysadmin", "系统管理员（基础数据）", "/admin/"),
    ("secadmin", "安全管理员（账号与权限）", "/admin/"),
    ("auditadmin", "审计管理员（审计日志）", "/audit/"),
]
