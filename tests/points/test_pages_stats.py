"""The console's volunteer statistics page and its Excel download, on the hand-computed November
of test_recognition: the same numbers as the functions, scope, and bad input in Chinese."""

from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from .test_recognition import november  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

URL = "/console/volunteers/stats/"
XLSX = "/console/volunteers/stats.xlsx"


def as_user(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def test_stats_page_numbers(november):  # noqa: F811
    response = as_user(november.world.commander).get(URL, {"month": "2026-11"})
    assert response.status_code == 200
    page = text(response)
    assert "平安县公安局 · 2026-11-01 至 2026-11-30" in page
    # Totals: members 3, active 4, hours 10.50, tasks 3, fill 6/11, issued 130, redeemed 50.
    for figure in (
        "<b>3</b>队员",
        "<b>4</b>活跃队员",
        "<b>10.50</b>服务时长",
        "<b>54.5%</b>报满率",
        "6 / 11",
        "<b>130</b>发放积分",
        "<b>50</b>兑换积分",
    ):
        assert figure in page, figure
    assert "东门义警队" in page and "大坑义警队" in page and "44.4%" in page
    # The county leaderboard, masked.
    assert "2026-11 积分排行 · 平安县公安局" in page
    assert "张**" in page and "张三丰" not in page and "13800000001" not in page
    # The chart is drawn from vendored ECharts with the teams' figures.
    assert "vendor/echarts/echarts.min.js" in page and 'id="stats-chart"' in page
    assert '"hours": [7.5, 3.0]' in page and '"issued": [80, 50]' in page
    assert "导出 Excel" in page


def test_team_leaderboard_and_custom_period(november):  # noqa: F811
    client = as_user(november.world.commander)
    page = text(client.get(URL, {"month": "2026-11", "team": "YJ-T2"}))
    assert "2026-11 积分排行 · 大坑义警队" in page
    one_day = text(client.get(URL, {"month": "2026-11", "from": "2026-11-05", "to": "2026-11-05"}))
    assert "2026-11-05 至 2026-11-05" in one_day and "<b>7.50</b>服务时长" in one_day


def test_station_sees_its_own_teams_only(november):  # noqa: F811
    page = text(as_user(november.world.chief_a).get(URL, {"month": "2026-11"}))
    assert "东门义警队" in page and "大坑义警队" not in page
    assert "赵*" not in page
    officer = as_user(november.world.officer_a).get(URL, {"month": "2026-11"})
    assert officer.status_code == 200


def test_outside_scope_is_404_and_leaks_nothing(november):  # noqa: F811
    client = as_user(november.world.chief_a)
    for params in (
        {"month": "2026-11", "org": "S-B"},
        {"month": "2026-11", "team": "YJ-T2"},
        {"month": "2026-11", "org": "NOPE"},
    ):
        for url in (URL, XLSX):
            response = client.get(url, params)
            assert response.status_code == 404, (url, params)
            page = text(response)
            assert "未找到" in page and "大坑义警队" not in page.split("队伍排行")[0]
            assert "赵*" not in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "2026-13"}, "月份的月份应在 1 到 12 之间"),
        ({"month": "abc"}, "月份格式应为 年-月"),
        ({"from": "2026-02-30"}, "起始日期不是有效日期"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, "起始日期不能晚于截止日期"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "统计区间最长 3 年"),
    ],
)
def test_bad_input_in_chinese(november, params, message):  # noqa: F811
    for url in (URL, XLSX):
        response = as_user(november.world.commander).get(url, params)
        assert response.status_code == 400
        assert message in text(response)


def test_excel_download(november):  # noqa: F811
    response = as_user(november.world.commander).get(XLSX, {"month": "2026-11"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    stats = [list(r) for r in book["队伍统计"].iter_rows(values_only=True)]
    total = next(r for r in stats if r[0] == "合计")
    assert total[2:] == [3, 4, 10.5, 3, 11, 6, pytest.approx(6 / 11), 130, 50]
    board = [list(r) for r in book["单位排行"].iter_rows(values_only=True)]
    assert board[3] == [1, "张**", "东门义警队", 40, 4.0]
    station = as_user(november.world.chief_a).get(XLSX, {"month": "2026-11", "team": "YJ-T1"})
    teams = [
        list(r)
        for r in load_workbook(BytesIO(station.content))["各队排行"].iter_rows(values_only=True)
    ]
    assert {r[0] for r in teams[3:]} == {"东门义警队"}


def test_stats_refused_for_non_staff(november):  # noqa: F811
    for user in (november.v1, november.citizen):
        assert as_user(user).get(URL).status_code == 403
        assert as_user(user).get(XLSX).status_code == 403
